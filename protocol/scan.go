package protocol

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// This file is the JSON scanner: a hand-written, zero-allocation validator
// that finds the extent of a value while checking it against RFC 8259, in
// the manner of nats-server's parser. It never builds values: the decoder
// keeps subslices of the frame.

// MaxDepth is the deepest nesting of arrays and objects Decode accepts,
// the outer message array included; deeper frames are ErrInvalidJSON. It
// bounds the work a pathological frame can ask for.
const MaxDepth = 512

// kind is the JSON type of a scanned value.
type kind uint8

// The JSON types.
const (
	kindString kind = iota + 1
	kindNumber
	kindTrue
	kindFalse
	kindNull
	kindArray
	kindObject
)

// kindName names a kind in error reasons, with its article.
func kindName(k kind) string {
	switch k {
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindTrue, kindFalse:
		return "a boolean"
	case kindNull:
		return "null"
	case kindArray:
		return "a list"
	case kindObject:
		return "an object"
	}
	return "nothing"
}

// SWAR constants: a byte repeated in each of the 8 bytes of a word.
const (
	lsb   = 0x0101010101010101
	msb   = 0x8080808080808080
	quote = lsb * '"'
	bslsh = lsb * '\\'
	space = lsb * 0x20
)

// plain8 reports whether none of the 8 bytes of x needs a look in a string:
// no control character, no '"', no '\\' and no byte of a multi-byte UTF-8
// sequence.
func plain8(x uint64) bool {
	ctl := (x - space) & ^x
	q := x ^ quote
	q = (q - lsb) & ^q
	b := x ^ bslsh
	b = (b - lsb) & ^b
	return (ctl|q|b|x)&msb == 0
}

// isWS reports whether c is JSON whitespace.
func isWS(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t'
}

// skipWS returns the index of the first non-whitespace byte of b at or
// after i, or len(b).
func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isWS(b[i]) {
		i++
	}
	return i
}

// syntaxError is ErrInvalidJSON at offset i of b. Error path only.
func syntaxError(b []byte, i int, what string) error {
	if i >= len(b) {
		return errorf(ErrInvalidJSON, "invalid JSON: %s at end of frame (offset %d)", what, i)
	}
	c := b[i]
	if c >= 0x20 && c < 0x7f {
		return errorf(ErrInvalidJSON, "invalid JSON: %s at offset %d (%q)", what, i, c)
	}
	return errorf(ErrInvalidJSON, "invalid JSON: %s at offset %d (byte 0x%02x)", what, i, c)
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return c-'0' < 10 || (c|0x20)-'a' < 6
}

// scanString scans the string starting with the '"' at b[i]. It returns the
// index just after the closing quote and whether the string holds escapes.
func scanString(b []byte, i int) (end int, esc bool, err error) {
	i++
	for {
		for i+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' && b[i] < 0x80 {
			i++
		}
		if i >= len(b) {
			return i, esc, syntaxError(b, i, "unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return i, esc, syntaxError(b, i+1, "unterminated escape")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, esc, syntaxError(b, i, `bad \u escape`)
				}
				i += 6
			default:
				return i, esc, syntaxError(b, i+1, "bad escape")
			}
		case c < 0x20:
			return i, esc, syntaxError(b, i, "control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, esc, syntaxError(b, i, "invalid UTF-8 in string")
			}
			i += size
		}
	}
}

// scanDigits returns the index of the first non-digit of b at or after i.
func scanDigits(b []byte, i int) int {
	for i < len(b) && b[i]-'0' < 10 {
		i++
	}
	return i
}

// scanNumber scans the number starting at b[i], a '-' or a digit.
func scanNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, syntaxError(b, i, "truncated number")
	case b[i] == '0':
		i++
	case b[i]-'1' < 9:
		i = scanDigits(b, i+1)
	default:
		return i, syntaxError(b, i, "bad number")
	}
	if i < len(b) && b[i] == '.' {
		j := scanDigits(b, i+1)
		if j == i+1 {
			return j, syntaxError(b, j, "bad fraction")
		}
		i = j
	}
	if i < len(b) && b[i]|0x20 == 'e' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := scanDigits(b, i)
		if j == i {
			return j, syntaxError(b, j, "bad exponent")
		}
		i = j
	}
	return i, nil
}

// scanLiteral checks that b holds lit at i and returns the index after it.
func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, syntaxError(b, i, "bad literal")
	}
	return i + len(lit), nil
}

// scanKey scans an object key at the first non-space byte at or after i,
// and the colon after it; it returns the index after the colon.
func scanKey(b []byte, i int) (int, error) {
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if i >= len(b) || b[i] != '"' {
		return i, syntaxError(b, i, "expected object key")
	}
	i, _, err := scanString(b, i)
	if err != nil {
		return i, err
	}
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if i >= len(b) || b[i] != ':' {
		return i, syntaxError(b, i, "expected ':'")
	}
	return i + 1, nil
}

// errBudget is what the scanner returns when a value would take the count
// of values past its budget; the caller turns it into ErrTooManyElements
// with the limit in the reason. A plain value, so that the scanner does
// not allocate.
var errBudget = errors.New("protocol: element budget spent")

// scanValue scans the value that starts at b[i] (no leading whitespace) and
// lies at nesting depth depth (the number of containers around it). It
// returns the index just after the value, its kind and, for a string,
// whether it holds escapes. Each value it meets, this one and those nested
// in it, takes one from *budget; it fails with errBudget, at once, when a
// value finds *budget at 0 (Limits.MaxElements).
func scanValue(b []byte, i, depth int, budget *int) (end int, k kind, esc bool, err error) {
	if i >= len(b) {
		return i, 0, false, syntaxError(b, i, "expected value")
	}
	if *budget <= 0 {
		return i, 0, false, errBudget
	}
	*budget--
	switch c := b[i]; c {
	case '"':
		end, esc, err = scanString(b, i)
		return end, kindString, esc, err
	case '[', '{':
		end, k, err = scanContainer(b, i, depth, budget)
		return end, k, false, err
	case 't':
		end, err = scanLiteral(b, i, "true")
		return end, kindTrue, false, err
	case 'f':
		end, err = scanLiteral(b, i, "false")
		return end, kindFalse, false, err
	case 'n':
		end, err = scanLiteral(b, i, "null")
		return end, kindNull, false, err
	default:
		if c != '-' && c-'0' >= 10 {
			return i, 0, false, syntaxError(b, i, "expected value")
		}
		end, err = scanNumber(b, i)
		return end, kindNumber, false, err
	}
}

// scanContainer scans the array or object that starts at b[i] and lies at
// nesting depth depth; the values in it take from *budget as in scanValue
// (the container itself is its caller's to count). Nested containers are
// followed with a bit stack, one bit per level (set for an object), so
// nesting costs no recursion; obj caches the innermost container's bit.
func scanContainer(b []byte, i, depth int, budget *int) (end int, k kind, err error) {
	var stack [MaxDepth / 64]uint64
	var level uint // containers opened by this call
	obj := false   // whether the innermost container is an object
	for {
		// A value is expected at i.
		if i >= len(b) {
			return i, 0, syntaxError(b, i, "expected value")
		}
		switch c := b[i]; c {
		case '[', '{':
			if depth+int(level) >= MaxDepth {
				return i, 0, errorf(ErrInvalidJSON, "invalid JSON: nested deeper than %d at offset %d", MaxDepth, i)
			}
			if level > 0 { // a nested container: a value of the one around it
				if *budget <= 0 {
					return i, 0, errBudget
				}
				*budget--
			}
			obj = c == '{'
			bit := uint64(1) << (level % 64)
			if obj {
				stack[level/64] |= bit
			} else {
				stack[level/64] &^= bit
			}
			level++
			i = skipWS(b, i+1)
			if i < len(b) && (b[i] == ']' && !obj || b[i] == '}' && obj) {
				i++
				if level--; level == 0 {
					return i, containerKind(c), nil
				}
				obj = stack[(level-1)/64]&(uint64(1)<<((level-1)%64)) != 0
				break
			}
			if obj {
				if i, err = scanKey(b, i); err != nil {
					return i, 0, err
				}
				i = skipWS(b, i)
			}
			continue
		case '"': // the commonest values, without scanValue's dispatch
			if *budget <= 0 {
				return i, 0, errBudget
			}
			*budget--
			if i, _, err = scanString(b, i); err != nil {
				return i, 0, err
			}
		case '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if *budget <= 0 {
				return i, 0, errBudget
			}
			*budget--
			j := scanDigits(b, i+1)
			if j < len(b) && (b[j] == '.' || b[j]|0x20 == 'e') { // not a plain integer
				if j, err = scanNumber(b, i); err != nil {
					return j, 0, err
				}
			}
			i = j
		default:
			if i, _, _, err = scanValue(b, i, depth+int(level), budget); err != nil {
				return i, 0, err
			}
		}
		// A value ended at i: close containers until one continues.
		for {
			if i < len(b) && b[i] <= ' ' {
				i = skipWS(b, i)
			}
			if i >= len(b) {
				return i, 0, syntaxError(b, i, "unterminated container")
			}
			if b[i] == ',' {
				i++
				if obj {
					if i, err = scanKey(b, i); err != nil {
						return i, 0, err
					}
				}
				if i < len(b) && b[i] <= ' ' {
					i = skipWS(b, i)
				}
				break
			}
			if obj && b[i] == '}' || !obj && b[i] == ']' {
				i++
				if level--; level == 0 {
					return i, containerKind(b[i-1]), nil
				}
				obj = stack[(level-1)/64]&(uint64(1)<<((level-1)%64)) != 0
				continue
			}
			return i, 0, syntaxError(b, i, "expected ',' or closing bracket")
		}
	}
}

// containerKind is the kind of the container that c opens or closes.
func containerKind(c byte) kind {
	if c == '{' || c == '}' {
		return kindObject
	}
	return kindArray
}
