package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The error codes of {"error": {"code": ..., "message": ...}} (the package
// doc, "Errors", gives their statuses).
const (
	codeBadJSON              = "bad_json"
	codeBadRequest           = "bad_request"
	codeBadPublication       = "bad_publication"
	codeUnauthorized         = "unauthorized"
	codeForbidden            = "forbidden"
	codeNotFound             = "not_found"
	codeNoSuchSession        = "no_such_session"
	codeMethodNotAllowed     = "method_not_allowed"
	codeBodyTooLarge         = "body_too_large"
	codeBatchTooLarge        = "batch_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeOverLimit            = "over_limit"
	codeNotReady             = "not_ready"
	codeTooManyRequests      = "too_many_requests"
	codeBusy                 = "busy"
	codeInternal             = "internal"
)

// apiError is the body of every refusal.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Index is the first publication of a batch refused.
	Index *int `json:"index,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, struct {
		Error apiError `json:"error"`
	}{apiError{Code: code, Message: msg}})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"` + codeInternal + `","message":"internal error"}}`)
	}
	writeBody(w, status, append(b, '\n'))
}

// writeBody answers b, a JSON document, with status.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// decode reads the request body, at most maxBody bytes, as exactly one
// JSON value into v: unknown fields, wrong types and trailing data are
// refused. On failure it has answered and returns false.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		var extra json.RawMessage
		if err = dec.Decode(&extra); err == io.EOF {
			return true
		}
		if err == nil {
			err = errTrailing
		}
	}
	status, code, msg := decodeError(err)
	writeError(w, status, code, msg)
	return false
}

// errTrailing reports a body with more after its JSON value.
var errTrailing = errors.New("data after the JSON value")

// decodeError maps a decoding error to a status, a code and a message.
func decodeError(err error) (int, string, string) {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, codeBodyTooLarge, fmt.Sprintf("the body is over %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return http.StatusBadRequest, codeBadJSON, "empty body"
	case errors.Is(err, errTrailing):
		return http.StatusBadRequest, codeBadJSON, "data after the JSON value"
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return http.StatusBadRequest, codeBadJSON, "not JSON: " + err.Error()
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return http.StatusBadRequest, codeBadRequest, fmt.Sprintf("%s: a JSON %s where %s is expected", field, typ.Value, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return http.StatusBadRequest, codeBadRequest, strings.TrimPrefix(err.Error(), "json: ")
	}
	return http.StatusBadRequest, codeBadJSON, "not JSON: " + err.Error()
}
