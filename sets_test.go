package cors

import (
	"fmt"
	"testing"
)

// TestSmallMap checks lookups on both sides of maxListed, and across the
// move from the list to the map.
func TestSmallMap(t *testing.T) {
	for _, n := range []int{0, 1, maxListed - 1, maxListed, maxListed + 1, 3 * maxListed} {
		t.Run(fmt.Sprintf("keys=%d", n), func(t *testing.T) {
			var m smallMap[int]
			for i := range n {
				m.put(fmt.Sprintf("key-%d", i), i)
				m.put(fmt.Sprintf("key-%d", i), i+100) // a second put replaces the value
			}
			if m.len() != n {
				t.Errorf("len = %d, want %d", m.len(), n)
			}
			if listed := n <= maxListed; listed != (m.m == nil) {
				t.Errorf("with %d keys, map %v", n, m.m != nil)
			}
			for i := range n {
				if v, ok := m.get(fmt.Sprintf("key-%d", i)); !ok || v != i+100 {
					t.Errorf("get(key-%d) = %d, %v; want %d, true", i, v, ok, i+100)
				}
			}
			for _, missing := range []string{"", "key-", fmt.Sprintf("key-%d", n), "KEY-0", "key-0 "} {
				if v, ok := m.get(missing); ok || v != 0 {
					t.Errorf("get(%q) = %d, %v; want 0, false", missing, v, ok)
				}
				if m.has(missing) {
					t.Errorf("has(%q)", missing)
				}
			}
		})
	}
}
