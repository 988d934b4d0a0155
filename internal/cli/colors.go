package cli

import (
	"reflect"

	"github.com/dtail-go/dtail/internal/config"
)

// termColorNames flattens Client.TermColors into the `Group.Key` names
// that color.SchemeFromNames takes. Reflection keeps this in step with
// the config struct without a second hand-kept key list.
func termColorNames(tc config.TermColors) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(tc)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		group := v.Field(i)
		gt := group.Type()
		for j := 0; j < gt.NumField(); j++ {
			if s := group.Field(j).String(); s != "" {
				out[t.Field(i).Name+"."+gt.Field(j).Name] = s
			}
		}
	}
	return out
}
