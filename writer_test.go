package cors

import (
	"testing"
	"unsafe"
)

// TestWriterForms checks that the writer of each kind of answer keeps that
// answer whole, in the form that fits it, with room for every header value
// it sends, and no larger than its size class.
func TestWriterForms(t *testing.T) {
	p, _, err := compile(config{
		AllowedOrigins:      []string{"https://app.example"},
		AllowedMethods:      []string{"PUT"},
		ExposedHeaders:      []string{"X-Request-Id"},
		AllowCredentials:    true,
		AllowPrivateNetwork: true,
	}, compileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const origin = "https://app.example"
	for _, tc := range []struct {
		name     string
		a        answer
		form     writerForm
		maxBytes uintptr // the size class the form is meant to fill
	}{
		{"no Origin", answer{p: p}, formAllowsNothing, 48},
		{"a refused OPTIONS request", answer{p: p, options: true}, formAllowsNothing, 48},
		{"a refused preflight handed on", answer{p: p, preflight: true}, formAllowsNothing, 48},
		{"an allowed actual request", answer{p: p, origin: origin}, formActual, 112},
		{"an allowed OPTIONS request", answer{p: p, origin: origin, options: true}, formActual, 112},
		{"an allowed preflight handed on", answer{p: p, origin: origin, method: "PUT", allowHeaders: "x-a", preflight: true, privateNetwork: true}, formPreflight, 208},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cw, slots := newCORSWriter(&tc.a)
			if cw.form != tc.form {
				t.Fatalf("form %d, want %d", cw.form, tc.form)
			}
			a, tailSlots := cw.tail()
			if a != tc.a {
				t.Errorf("the writer gives back %+v, want %+v", a, tc.a)
			}
			if len(slots) < tc.a.slotsNeeded() {
				t.Errorf("%d slots for an answer that sends %d values", len(slots), tc.a.slotsNeeded())
			}
			if len(tailSlots) != len(slots) || &tailSlots[0] != &slots[0] {
				t.Error("tail gives other slots than newCORSWriter")
			}
			if got := writerSize(cw.form); got > tc.maxBytes {
				t.Errorf("the writer takes %d bytes, want at most %d", got, tc.maxBytes)
			}
			if n := testing.AllocsPerRun(10, func() { newCORSWriter(&tc.a) }); n != 1 {
				t.Errorf("newCORSWriter allocates %v times, want 1", n)
			}
		})
	}
}

// writerSize returns the size of the type a writer of form f heads.
func writerSize(f writerForm) uintptr {
	switch f {
	case formActual:
		return unsafe.Sizeof(actualWriter{})
	case formPreflight:
		return unsafe.Sizeof(preflightWriter{})
	}
	return unsafe.Sizeof(allowsNothingWriter{})
}
