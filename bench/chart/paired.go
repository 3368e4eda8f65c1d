package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// writePaired reads the raw output of bench/run.sh (go test's benchmark
// lines, rounds separated by "# round" comments) and writes a Markdown
// table of paired ratios: in each round, each of the first library's
// variants over the fastest, in that round, of the libraries named in vs;
// then the median of those ratios over the rounds. A library and the one it
// is compared with ran seconds apart in the same round, so a drift of the
// machine between rounds cancels out of each ratio, which a ratio of
// medians taken over all rounds does not do.
func writePaired(w io.Writer, r io.Reader, unit, prefix string, vs []string) error {
	type key struct{ scenario, lib string }
	var (
		rounds    []map[key]float64
		cur       = map[key]float64{}
		scenarios []string
		libs      []string
	)
	column := strings.Replace(unit, "sec/op", "ns/op", 1) // go test's name for benchstat's unit
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# round") {
			rounds = append(rounds, cur)
			cur = map[key]float64{}
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.HasPrefix(fields[0], "Benchmark"+prefix) {
			continue
		}
		name := gomaxprocsSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"+prefix), "")
		scenario, lib, ok := strings.Cut(name, "/lib=")
		if !ok {
			continue
		}
		scenario = strings.TrimPrefix(scenario, "scenario=")
		for i := 1; i+1 < len(fields); i++ {
			if fields[i+1] == column {
				v, err := strconv.ParseFloat(fields[i], 64)
				if err != nil {
					return fmt.Errorf("%s: %v", fields[0], err)
				}
				cur[key{scenario, lib}] = v
			}
		}
		if !slices.Contains(scenarios, scenario) {
			scenarios = append(scenarios, scenario)
		}
		if !slices.Contains(libs, lib) {
			libs = append(libs, lib)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(rounds) == 0 || len(libs) == 0 {
		return fmt.Errorf("no round of %s benchmarks in the input", prefix)
	}
	var ours []string
	for _, lib := range libs {
		if strings.HasPrefix(lib, libs[0]) {
			ours = append(ours, lib)
		}
	}
	fmt.Fprintf(w, "| scenario | %s |\n|---|%s\n", strings.Join(ours, " | "), strings.Repeat("--:|", len(ours)))
	for _, scenario := range scenarios {
		fmt.Fprintf(w, "| %s |", scenario)
		for _, lib := range ours {
			var ratios []float64
			for _, round := range rounds {
				best := math.Inf(1)
				for _, other := range vs {
					if v, ok := round[key{scenario, other}]; ok {
						best = min(best, v)
					}
				}
				if v, ok := round[key{scenario, lib}]; ok && !math.IsInf(best, 1) {
					ratios = append(ratios, v/best)
				}
			}
			fmt.Fprintf(w, " %s |", formatMedian(ratios))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n(median of %d rounds)\n", len(rounds))
	return nil
}

// formatMedian writes the median of xs with two decimals, or "–" for none.
func formatMedian(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	return strconv.FormatFloat(m, 'f', 2, 64)
}
