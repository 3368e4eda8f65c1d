package cors

// smallMap maps strings to values, and is looked up without hashing while
// it is small: comparing a few strings, which differ in length more often
// than not, costs less than hashing the one looked up, which is what every
// lookup in a Go map does for a key shorter than 64 bytes. Past maxListed
// keys it becomes a map, whose lookups do not grow with it. Policies are
// small in the usual case (a few origins, one or two patterns, a few
// methods) and can be large (thousands of tenants' origins).
type smallMap[V any] struct {
	keys []string
	vals []V
	m    map[string]V // every key, once there are more than maxListed
}

// maxListed is how many keys a smallMap compares one by one.
const maxListed = 8

// put sets the value of key.
func (s *smallMap[V]) put(key string, v V) {
	if s.m != nil {
		s.m[key] = v
		return
	}
	for i, k := range s.keys {
		if k == key {
			s.vals[i] = v
			return
		}
	}
	if len(s.keys) < maxListed {
		s.keys = append(s.keys, key)
		s.vals = append(s.vals, v)
		return
	}
	s.m = make(map[string]V, len(s.keys)+1)
	for i, k := range s.keys {
		s.m[k] = s.vals[i]
	}
	s.m[key] = v
	s.keys, s.vals = nil, nil
}

// get returns the value of key, and whether key is in the map.
func (s *smallMap[V]) get(key string) (V, bool) {
	if s.m != nil {
		v, ok := s.m[key]
		return v, ok
	}
	for i, k := range s.keys {
		if k == key { // compares the lengths first
			return s.vals[i], true
		}
	}
	var zero V
	return zero, false
}

// has reports whether key is in the map.
func (s *smallMap[V]) has(key string) bool {
	_, ok := s.get(key)
	return ok
}

// list returns the keys, and whether they are all compared one by one: it
// returns nil and false once the map holds them.
func (s *smallMap[V]) list() ([]string, bool) {
	return s.keys, s.m == nil
}

// len returns how many keys the map holds.
func (s *smallMap[V]) len() int {
	if s.m != nil {
		return len(s.m)
	}
	return len(s.keys)
}

// stringSet is a set of strings, looked up as a smallMap is.
type stringSet = smallMap[struct{}]
