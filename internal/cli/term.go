package cli

// envNoColor reports whether the environment asks for output without
// colour: NO_COLOR set to any non-empty value (no-color.org) or a
// terminal that cannot show escapes (TERM=dumb). Like -noColor it turns
// off every escape sequence the clients would print; a dtail.json with
// TermColorsEnable does not override it (the environment is the user's
// choice for this terminal, the file is for all of them).
func envNoColor(getenv func(string) string) bool {
	return getenv("NO_COLOR") != "" || getenv("TERM") == "dumb"
}
