package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MaxBodyBytes is the largest request body accepted; larger bodies get 413.
const MaxBodyBytes = 16 << 10

// encode writes v as the JSON response body with status.
func encode(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	write(w, status, b, err)
}

// write sends b, a JSON document, as the response body with status; when err says b could
// not be made, the error table's 500 instead. Only our own response types are encoded; they
// always marshal, and should one not, the 500's body always does.
func write(w http.ResponseWriter, status int, b []byte, err error) {
	if err != nil {
		var body errorBody
		status, body = failure("", err)
		b, _ = json.Marshal(body)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// withRawField returns obj, an object as json.Marshal renders it, with the field name: raw
// added at its end. raw must be a JSON document: it is copied as it is, where encoding/json
// would scan and copy it again (a conversation history of several kilobytes, for each
// response).
func withRawField(obj []byte, name string, raw []byte) []byte {
	end := len(obj) - 1 // the closing brace
	out := make([]byte, 0, len(obj)+len(name)+len(raw)+4)
	out = append(out, obj[:end]...)
	if obj[end-1] != '{' {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, name...)
	out = append(out, '"', ':')
	out = append(out, raw...)
	return append(out, obj[end:]...)
}

// body is a request body type: the fields it accepts, and its own validation, which returns
// an *InvalidRequestError. A field whose value is an object is a body too (its type
// implements json.Unmarshaler with decodeObject), so the same rules hold at every depth.
type body interface {
	fields() []string
	valid() error
}

// nullableBody is a body some of whose fields may be null, which means what absent means
// (openapi.yaml: type [x, "null"]). Any other field that is null is refused: the schema
// does not allow it, and a client that sends it has a bug worth hearing about.
type nullableBody interface {
	nullable() []string
}

// jsonWhitespace is the whitespace JSON allows around a value (RFC 8259).
const jsonWhitespace = " \t\n\r"

// decode reads the request body into dst and validates it. An absent or empty body leaves
// dst at its zero value. The body must be a JSON object (Content-Type application/json or
// unset) with no unknown, duplicate or unexpectedly null fields, at any depth. Errors:
// *InvalidRequestError (400), errBodyTooLarge (413), errUnsupportedMediaType (415).
func decode(r *http.Request, dst body) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errBodyTooLarge
		}
		return invalid("could not read the request body")
	}
	// Empty is nothing but JSON's whitespace; any other byte (a form feed, a no-break space,
	// which bytes.TrimSpace would drop) makes a body that must be JSON.
	if len(bytes.Trim(data, jsonWhitespace)) == 0 {
		return dst.valid()
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || (len(mt) > 5 && mt[len(mt)-5:] == "+json")) {
			return errUnsupportedMediaType
		}
	}
	// encoding/json silently turns each byte that is not UTF-8, and each \u escape of half
	// a UTF-16 surrogate pair, into U+FFFD: "tech-\xff" and "tech-\xfe" would both
	// be stored as the technician "tech-\ufffd" and share a calendar. Neither is text a
	// client meant to send (JSON is UTF-8, RFC 8259), so the body is refused instead.
	if !utf8.Valid(data) {
		return invalid("the body must be UTF-8")
	}
	if unpairedSurrogate(data) {
		return invalid(`the body must not hold a \u escape of an unpaired UTF-16 surrogate (\ud800 to \udfff)`)
	}
	return decodeObject(data, dst, "")
}

// unpairedSurrogate reports whether a string in data, JSON text, holds a \u escape of a
// UTF-16 surrogate that is not half of a pair: a high surrogate (\ud800 to \udbff) not
// followed at once by an escaped low one (\udc00 to \udfff), or a low one on its own.
func unpairedSurrogate(data []byte) bool {
	inString := false
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			inString = !inString
		case '\\':
			if !inString {
				continue // not JSON; decoding says so
			}
			switch u := escapedUnit(data, i); {
			case u >= 0xdc00 && u <= 0xdfff:
				return true
			case u >= 0xd800 && u <= 0xdbff:
				if low := escapedUnit(data, i+6); low < 0xdc00 || low > 0xdfff {
					return true
				}
				i += 11 // past the pair
			case u >= 0:
				i += 5 // past \uXXXX
			default:
				i++ // past a one-character escape such as \"
			}
		}
	}
	return false
}

// escapedUnit returns the UTF-16 code unit of the \uXXXX escape at data[i:], or -1 when
// there is none.
func escapedUnit(data []byte, i int) int {
	if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
		return -1
	}
	n, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 16)
	if err != nil {
		return -1
	}
	return int(n)
}

// decodeObject decodes data, which must be one JSON object, into dst and validates it.
// name is where the object is in the request body ("" for the body itself).
func decodeObject(data []byte, dst body, name string) error {
	var nullable []string
	if n, ok := dst.(nullableBody); ok {
		nullable = n.nullable()
	}
	if err := decodeFields(data, dst, name, dst.fields(), nullable); err != nil {
		return err
	}
	return dst.valid()
}

// decodeFields decodes data, which must be one JSON object of only the allowed fields,
// null only where nullable, into dst. name is where the object is in the request body (""
// for the body itself, "retryPolicy" for a field's), and prefixes what the errors say. A
// field whose value is an object has a type whose UnmarshalJSON calls decodeFields, so the
// rules hold at every depth.
func decodeFields(data []byte, dst any, name string, allowed, nullable []string) error {
	path := func(field string) string {
		if name == "" {
			return field
		}
		return name + "." + field
	}
	fields, err := objectFields(data, name)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if !slices.Contains(allowed, f.name) {
			return invalid(fmt.Sprintf("unknown field %q", path(f.name)))
		}
		if string(f.value) == "null" && !slices.Contains(nullable, f.name) {
			return invalid(fmt.Sprintf("%s must not be null", path(f.name)))
		}
	}
	if err := json.Unmarshal(data, dst); err != nil {
		if ie, ok := errors.AsType[*InvalidRequestError](err); ok {
			return ie // a nested object's own refusal, already named
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return invalid(fmt.Sprintf("%s must be %s", path(te.Field), jsonKind(te.Type.Kind())))
		}
		return invalid("malformed JSON")
	}
	return nil
}

// field is one member of a JSON object: its name and its value as it was sent.
type field struct {
	name  string
	value json.RawMessage
}

// objectFields checks that data is exactly one JSON object and returns its members,
// rejecting duplicates (encoding/json would silently keep the last). name is as
// decodeObject's.
func objectFields(data []byte, name string) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, invalid("malformed JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if name != "" {
			return nil, invalid(name + " must be an object")
		}
		return nil, invalid("the body must be a JSON object")
	}
	var fields []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid("malformed JSON")
		}
		k, _ := tok.(string)
		if slices.ContainsFunc(fields, func(f field) bool { return f.name == k }) {
			if name != "" {
				k = name + "." + k
			}
			return nil, invalid(fmt.Sprintf("duplicate field %q", k))
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, invalid("malformed JSON")
		}
		fields = append(fields, field{name: k, value: value})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, invalid("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("unexpected data after the JSON object")
	}
	return fields, nil
}

// jsonKind names the JSON type a Go field of kind k expects.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		return "an array"
	default:
		return "an object"
	}
}
