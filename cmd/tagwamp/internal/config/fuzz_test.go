package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse checks that Parse never panics on any bytes, that it refuses
// bad input with an error that carries the package prefix, and that a
// configuration it accepts is valid and survives a round trip: written
// back as YAML (durations and levels in their String form) it parses to
// the same Config. Seeds: testdata/fuzz/FuzzParse, the example file and
// the cases of TestParse.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "tagwamp.example.yaml")); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("Parse(%q) = %q: no package prefix", data, err)
			}
			if !reflect.DeepEqual(cfg, Config{}) {
				t.Fatalf("Parse(%q) failed but returned %+v", data, cfg)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse(%q) accepted an invalid configuration: %v", data, err)
		}
		out, err := yaml.Marshal(document(cfg))
		if err != nil {
			t.Fatalf("marshal %+v: %v", cfg, err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, written back as %q, which fails: %v", data, cfg, out, err)
		}
		if a, b := normalize(cfg), normalize(again); !reflect.DeepEqual(a, b) {
			t.Fatalf("Parse(%q) = %+v\nwritten back as %q\nparses to %+v", data, a, out, b)
		}
	})
}

// document is cfg as the YAML document that would configure it, every
// key written, found by reflection so that a key added to Config is
// covered without touching this test. Durations and levels are written in
// their String form; strings raw, so a secret keeps its value (its own
// String and MarshalText redact it); a nil pointer is an absent key.
func document(cfg Config) any { return docValue(reflect.ValueOf(cfg)) }

func docValue(v reflect.Value) any {
	if s, ok := v.Interface().(fmt.Stringer); ok && v.Kind() != reflect.String && v.Kind() != reflect.Struct {
		return s.String() // Duration, Level
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return docValue(v.Elem())
	case reflect.Struct:
		m := make(map[string]any)
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "" || key == "-" || !f.IsExported() {
				continue
			}
			if fv := v.Field(i); fv.Kind() != reflect.Pointer || !fv.IsNil() {
				m[key] = docValue(fv)
			}
		}
		return m
	case reflect.Slice:
		l := make([]any, v.Len())
		for i := range l {
			l[i] = docValue(v.Index(i))
		}
		return l
	case reflect.String:
		return v.String()
	default:
		return v.Interface()
	}
}

// normalize makes empty lists nil: "allow: []" and no allow key are the
// same configuration.
func normalize(c Config) Config {
	normalizeValue(reflect.ValueOf(&c).Elem())
	return c
}

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalizeValue(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				normalizeValue(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalizeValue(v.Index(i))
		}
	}
}
