package config

// Log formats, the values of log_format ("" is LogText).
const (
	LogText = "text"
	LogJSON = "json"
)

// validateLogFormat checks log_format.
func validateLogFormat(bad func(key, format string, args ...any), f string) {
	switch f {
	case "", LogText, LogJSON:
	default:
		bad("log_format", "must be text or json, not %q", f)
	}
}
