package mapr

import (
	"sort"
	"unsafe"
)

// unsafeString views b as a string without copying, for map lookups with
// a scratch key; the caller must not keep the result past b's next write
// (Mapper.Add clones it before storing it as a key).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func sortedKeys(m map[string]*set) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
