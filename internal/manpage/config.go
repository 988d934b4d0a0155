package manpage

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/dtail-go/dtail/internal/config"
)

// ConfigKey is one leaf key of dtail.json, found by reflection over
// config.Config.
type ConfigKey struct {
	Path    string // e.g. "Server.MaxConnections", "Server.Schedule[].Name"
	Type    string // JSON type
	Default string // JSON of the built-in default; "" for keys inside arrays
}

// ConfigKeys walks config.Config and returns every leaf key with its type
// and the default of config.DefaultWithHome("").
func ConfigKeys() []ConfigKey {
	var out []ConfigKey
	def := reflect.ValueOf(config.DefaultWithHome(""))
	var walk func(v reflect.Value, t reflect.Type, path string)
	walk = func(v reflect.Value, t reflect.Type, path string) {
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			p := sf.Name
			if path != "" {
				p = path + "." + sf.Name
			}
			var fv reflect.Value
			if v.IsValid() {
				fv = v.Field(i)
			}
			ft := sf.Type
			switch {
			case ft.Kind() == reflect.Struct:
				walk(fv, ft, p)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				out = append(out, ConfigKey{Path: p, Type: "array of objects", Default: jsonOf(fv)})
				walk(reflect.Value{}, ft.Elem(), p+"[]")
			default:
				out = append(out, ConfigKey{Path: p, Type: jsonType(ft), Default: jsonOf(fv)})
			}
		}
	}
	walk(def, def.Type(), "")
	return out
}

func jsonOf(v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	if (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0 {
		return ""
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return ""
	}
	return string(b)
}

func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "array of " + jsonType(t.Elem()) + "s"
	case reflect.Array:
		return fmt.Sprintf("array of %d %ss", t.Len(), jsonType(t.Elem()))
	case reflect.Map:
		return "object of " + jsonType(t.Elem())
	}
	return t.Kind().String()
}

// configSections is the intro of each top-level object.
var configSections = map[string]string{
	"Common": "Settings read by the server and the clients.",
	"Server": "Settings of dserver(8). Every integer tuning value treats 0 or less as its default.",
	"Client": "Settings of the clients dtail(1), dcat(1), dgrep(1) and dmap(1).",
}

// WriteConfigMan renders dtail.json(5).
func WriteConfigMan(out io.Writer) error {
	w := bufio.NewWriter(out)
	header(w, "dtail.json", 5, "DTail File Formats")
	fmt.Fprintln(w, ".SH NAME\ndtail.json \\- DTail configuration file")
	fmt.Fprintln(w, ".SH DESCRIPTION")
	for i, p := range []string{
		"A JSON object with the objects Common, Server and Client. It is decoded on top of the built-in defaults: " +
			"absent keys keep their defaults, key names match case-insensitively, unknown keys are ignored, " +
			"and a value of the wrong type is an error that names the file, line and key.",
		"Every program loads the file given with -cfg (\"-cfg none\" loads none). Without -cfg the first existing " +
			"of ~/.config/dtail/dtail.conf and ~/.dtail.conf is used. There is no built-in system-wide path: the " +
			"packaged dserver.service passes -cfg /etc/dtail/dtail.json.",
		"Some flags override keys: -port overrides Common.SSHPort when not 2222, -logLevel overrides " +
			"Common.LogLevel when not info, -logger always overrides Common.Logger, -logDir overrides Common.LogDir " +
			"when non-empty, -bindAddress overrides Server.SSHBindAddress.",
		"The keys below are listed with their type and built-in default. Keys shown as Name[].Key belong to the " +
			"objects of the array Name.",
	} {
		if i > 0 {
			fmt.Fprintln(w, ".PP")
		}
		fmt.Fprintln(w, roff(p))
	}
	section := ""
	colorGroup := ""
	for _, k := range ConfigKeys() {
		top, _, _ := strings.Cut(k.Path, ".")
		if top != section {
			section = top
			fmt.Fprintf(w, ".SH %s\n%s\n", strings.ToUpper(top), roff(configSections[top]))
		}
		if group, leaf, ok := colorKey(k.Path); ok {
			// About a hundred colour keys: one paragraph per group.
			if group != colorGroup {
				colorGroup = group
				fmt.Fprintf(w, ".TP\n.B %s\n%s\n", quoteArg(group+".*"), roff(describeKey(group+".*")))
			}
			fmt.Fprintf(w, ".br\n%s (default %s)\n", roff(leaf), roff(k.Default))
			continue
		}
		fmt.Fprintf(w, ".TP\n.B %s\n", quoteArg(k.Path))
		text := fmt.Sprintf("(%s", k.Type)
		if k.Default != "" {
			text += ", default " + k.Default
		}
		text += ") " + describeKey(k.Path)
		fmt.Fprintln(w, roff(text))
	}
	fmt.Fprintln(w, ".SH EXAMPLE")
	fmt.Fprintln(w, ".nf")
	for _, line := range strings.Split(strings.TrimSpace(exampleConfig), "\n") {
		fmt.Fprintln(w, roff(line))
	}
	fmt.Fprintln(w, ".fi")
	fmt.Fprintln(w, ".SH SEE ALSO\ndserver(8), dtail\\-keycache(8), dtail(1), dcat(1), dgrep(1), dmap(1)")
	return w.Flush()
}

// colorKey splits "Client.TermColors.Remote.TextFg" into its group
// "Client.TermColors.Remote" and leaf "TextFg".
func colorKey(path string) (group, leaf string, ok bool) {
	const prefix = "Client.TermColors."
	if !strings.HasPrefix(path, prefix) {
		return "", "", false
	}
	i := strings.LastIndex(path, ".")
	return path[:i], path[i+1:], true
}

const exampleConfig = `
{
  "Common": { "LogDir": "/var/log/dserver", "CacheDir": "/var/cache/dserver",
              "SSHPort": 2222, "LogLevel": "info" },
  "Server": {
    "SSHBindAddress": "0.0.0.0",
    "HostKeyFile": "/var/cache/dserver/ssh_host_key",
    "MaxConnections": 50,
    "Permissions": {
      "Default": ["readfiles:^/var/log/.*$"],
      "Users": { "alice": ["readfiles:^/var/log/.*$", "readfiles:!\\.gz$"] }
    }
  },
  "Client": { "TermColorsEnable": true }
}`
