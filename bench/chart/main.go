// Command chart draws the benchmarks' comparison of CORS libraries as an
// SVG bar chart: one group of bars per scenario, one bar per library, on a
// logarithmic time axis. It reads the CSV that benchstat writes with
// libraries as columns:
//
//	benchstat -col /lib -format csv bench/results.txt | go run ./bench/chart > bench/chart.svg
//
// With -ratios it writes instead Markdown tables of the first library's
// time, and its variants', over the fastest of the libraries named by -vs,
// per scenario. With -paired it reads bench/run.sh's raw output instead of
// benchstat's, and writes the medians of the ratios taken round by round:
//
//	go run ./bench/chart -paired -unit cpu-sec/op < bench/results.txt
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	unit := flag.String("unit", "sec/op", "the benchstat unit to draw: sec/op or cpu-sec/op")
	title := flag.String("title", "Time per request (median, lower is better)", "the chart's title")
	prefix := flag.String("benchmark", "CORS/", "draw the rows whose name starts with this")
	ratios := flag.Bool("ratios", false, "write a Markdown table of ratios instead of the chart")
	vs := flag.String("vs", "rs-cors,go-chi-cors", "with -ratios or -paired, the libraries to compare the first one with")
	paired := flag.Bool("paired", false, "read go test's output, in rounds, and write the medians of the ratios of each round")
	flag.Parse()
	if *paired {
		w := bufio.NewWriter(os.Stdout)
		if err := writePaired(w, os.Stdin, *unit, *prefix, strings.Split(*vs, ",")); err != nil {
			log.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		return
	}
	t, err := readTable(os.Stdin, *unit, *prefix)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(os.Stdout)
	if *ratios {
		err = t.writeRatios(w, strings.Split(*vs, ","))
	} else {
		t.drawSVG(w, *title)
	}
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

// table holds one unit of benchstat's output: a median per scenario and
// library, in seconds; NaN where a library has no figure.
type table struct {
	unit      string
	libs      []string
	scenarios []string
	values    [][]float64 // [scenario][lib]
}

// gomaxprocsSuffix is the "-2" that go test appends to benchmark names.
var gomaxprocsSuffix = regexp.MustCompile(`-\d+$`)

// readTable finds the block of unit in benchstat's CSV: a row naming the
// libraries, a row naming the units, then one row per benchmark.
func readTable(r io.Reader, unit, prefix string) (*table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var libsRow []string
	var cols []int // the columns of unit, one per library
	t := &table{unit: unit}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case len(rec) < 2:
			cols = nil
		case rec[0] == "" && rec[1] != "" && !strings.Contains(rec[1], "/op"):
			libsRow = rec
		case rec[0] == "":
			cols = nil
			if rec[1] != unit {
				continue
			}
			t.libs = nil
			for i, u := range rec {
				if u == unit && i < len(libsRow) {
					cols = append(cols, i)
					t.libs = append(t.libs, libsRow[i])
				}
			}
		case cols != nil && strings.HasPrefix(rec[0], prefix):
			name := gomaxprocsSuffix.ReplaceAllString(strings.TrimPrefix(rec[0], prefix), "")
			name = strings.TrimPrefix(name, "scenario=")
			row := make([]float64, len(cols))
			for j, c := range cols {
				row[j] = math.NaN()
				if c < len(rec) {
					if v, err := strconv.ParseFloat(rec[c], 64); err == nil {
						row[j] = v
					}
				}
			}
			t.scenarios = append(t.scenarios, name)
			t.values = append(t.values, row)
		}
	}
	if len(t.scenarios) == 0 {
		return nil, errors.New("no " + unit + " rows starting with " + prefix + " in the input: is it benchstat -col /lib -format csv?")
	}
	return t, nil
}

// The chart's geometry, in pixels.
const (
	labelWidth = 170
	plotWidth  = 620
	barHeight  = 9
	groupGap   = 10
	bottomAxis = 40

	legendColumns = 4
	legendWidth   = 160
)

// colors are the libraries' colors, in their order: caddy-cors and its
// variants in greens and blues, then the other libraries.
var colors = []string{"#1b7837", "#7fbf7b", "#2166ac", "#4393c3", "#92c5de", "#542788", "#d6604d", "#e08214", "#999999"}

// drawSVG writes the chart. Bars grow to the right on a logarithmic scale
// of nanoseconds, labelled with their value.
func (t *table) drawSVG(w io.Writer, title string) {
	lo, hi := math.Inf(1), 0.0
	for _, row := range t.values {
		for _, v := range row {
			if v > 0 {
				lo, hi = min(lo, v*1e9), max(hi, v*1e9)
			}
		}
	}
	minExp := math.Floor(math.Log10(lo))
	maxExp := math.Ceil(math.Log10(hi))
	if maxExp <= minExp {
		maxExp = minExp + 1
	}
	x := func(ns float64) float64 {
		return labelWidth + plotWidth*(math.Log10(ns)-minExp)/(maxExp-minExp)
	}
	groupHeight := float64(len(t.libs)*barHeight + groupGap)
	legendRows := (len(t.libs) + legendColumns - 1) / legendColumns
	top := 44 + 16*legendRows // below the title and the legend
	height := top + int(groupHeight)*len(t.scenarios) + bottomAxis
	width := labelWidth + plotWidth + 90

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", labelWidth, html.EscapeString(title))
	for i, lib := range t.libs {
		lx, ly := labelWidth+(i%legendColumns)*legendWidth, 32+(i/legendColumns)*16
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			lx, ly, colors[i%len(colors)], lx+16, ly+10, html.EscapeString(lib))
	}
	axisY := float64(height - bottomAxis)
	for e := minExp; e <= maxExp; e++ {
		gx := x(math.Pow(10, e))
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", gx, top-6, gx, axisY)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", gx, axisY+14, formatNs(math.Pow(10, e)))
	}
	fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="middle">%s per request, logarithmic scale</text>`+"\n",
		labelWidth+plotWidth/2, axisY+30, html.EscapeString(strings.TrimSuffix(t.unit, "sec/op")+"time"))
	for s, name := range t.scenarios {
		gy := float64(top) + float64(s)*groupHeight
		fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
			labelWidth-8, gy+float64(len(t.libs)*barHeight)/2+4, html.EscapeString(name))
		for i, v := range t.values[s] {
			if !(v > 0) {
				continue
			}
			ns := v * 1e9
			by := gy + float64(i*barHeight)
			fmt.Fprintf(w, `<rect x="%d" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				labelWidth, by, x(ns)-labelWidth, barHeight-1, colors[i%len(colors)],
				html.EscapeString(name), html.EscapeString(t.libs[i]), formatNs(ns))
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" font-size="8">%s</text>`+"\n", x(ns)+3, by+barHeight-2, formatNs(ns))
		}
	}
	fmt.Fprintln(w, "</svg>")
}

// writeRatios writes three Markdown tables, per scenario: the medians of
// the first library and of its variants (the libraries whose names begin
// with its name) beside the fastest median among the libraries named in vs;
// each of them over that fastest median; and each variant over the first
// library.
func (t *table) writeRatios(w io.Writer, vs []string) error {
	var cols []int
	for _, name := range vs {
		i := slices.Index(t.libs, name)
		if i < 0 {
			return fmt.Errorf("no library %q in the input (it has %s)", name, strings.Join(t.libs, ", "))
		}
		cols = append(cols, i)
	}
	var ours []int
	for i, lib := range t.libs {
		if strings.HasPrefix(lib, t.libs[0]) {
			ours = append(ours, i)
		}
	}
	header := func(first string, libs []int, last string) {
		fmt.Fprintf(w, "| %s |", first)
		for _, i := range libs {
			fmt.Fprintf(w, " %s |", t.libs[i])
		}
		if last != "" {
			fmt.Fprintf(w, " %s |", last)
		}
		fmt.Fprint(w, "\n|---|")
		for range len(libs) + min(len(last), 1) {
			fmt.Fprint(w, "--:|")
		}
		fmt.Fprintln(w)
	}
	fastest := make([]float64, len(t.scenarios))
	header("scenario", ours, "fastest of "+strings.Join(vs, ", "))
	for s, name := range t.scenarios {
		best, bestLib := math.Inf(1), ""
		for _, c := range cols {
			if v := t.values[s][c]; v < best {
				best, bestLib = v, t.libs[c]
			}
		}
		fastest[s] = best
		fmt.Fprintf(w, "| %s |", name)
		for _, i := range ours {
			fmt.Fprintf(w, " %s |", formatNs(t.values[s][i]*1e9))
		}
		fmt.Fprintf(w, " %s (%s) |\n", formatNs(best*1e9), bestLib)
	}
	fmt.Fprintf(w, "\nOver the fastest of %s:\n\n", strings.Join(vs, ", "))
	header("scenario", ours, "")
	for s, name := range t.scenarios {
		fmt.Fprintf(w, "| %s |", name)
		for _, i := range ours {
			fmt.Fprintf(w, " %.2f |", t.values[s][i]/fastest[s])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nOver %s:\n\n", t.libs[0])
	header("scenario", ours[1:], "")
	for s, name := range t.scenarios {
		fmt.Fprintf(w, "| %s |", name)
		for _, i := range ours[1:] {
			fmt.Fprintf(w, " %.2f |", t.values[s][i]/t.values[s][ours[0]])
		}
		fmt.Fprintln(w)
	}
	return nil
}

// formatNs writes a duration given in nanoseconds with a unit that keeps
// it short.
func formatNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return strconv.FormatFloat(ns/1e6, 'g', 3, 64) + " ms"
	case ns >= 1e3:
		return strconv.FormatFloat(ns/1e3, 'g', 3, 64) + " µs"
	}
	return strconv.FormatFloat(ns, 'g', 3, 64) + " ns"
}
