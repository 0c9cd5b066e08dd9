// Package config is the tagwamp command's configuration file: its keys,
// their defaults, loading with gopkg.in/yaml.v3 and validation. Every error
// names the key it is about ("config: limits.max_message_size: must be
// positive"); an unknown key is an error, so a typo never passes silently.
//
// tagwamp.example.yaml, beside the command, documents every key with its
// default; the tests load it.
//
//	cfg, err := config.Load("tagwamp.yaml") // or config.Default()
//	if err != nil { ... }
//
// # Concurrency
//
// A Config is a plain value with no shared state; the package has no global
// state either. Load, Parse and Validate may run concurrently.
package config
