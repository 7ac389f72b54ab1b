package lifecycle

import (
	"strings"
	"testing"
)

// FuzzParseID holds ParseID to its contract: a UUID in canonical 8-4-4-4-12 form, any
// case, comes back lower-cased; anything else is refused. The committed corpus is in
// testdata/fuzz/FuzzParseID.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"a11ce000-0000-4000-8000-000000000001",    // valid, lower
		"A11CE000-0000-4000-8000-00000000DEAD",    // valid, upper
		"a11Ce000-0000-4000-8000-00000000dEaD",    // valid, mixed
		"00000000-0000-0000-0000-000000000000",    // nil UUID
		"ffffffff-ffff-ffff-ffff-ffffffffffff",    // max UUID
		"a11ce000-0000-4000-8000-00000000000",     // 35 chars
		"a11ce000-0000-4000-8000-0000000000011",   // 37 chars
		"a11ce0000-000-4000-8000-000000000001",    // dash moved right
		"a11ce00-00000-4000-8000-000000000001",    // dash moved left
		"a11ce000x0000-4000-8000-000000000001",    // separator not a dash
		"a11ce000-0000-4000-8000-00000000000g",    // non-hex
		"a11ce000-0000-4000-8000-0000000000-1",    // extra dash
		"a11ce000_0000_4000_8000_000000000001",    // underscores
		"{a11ce000-0000-4000-8000-00000000001}",   // braces
		"a11ce0000000400080000000000000000001",    // 36 chars without dashes
		"a11ce000-0000-4000-8000-00000000000é",    // unicode: 37 bytes
		"a11ce000-0000-4000-8000-0000000000é",     // unicode: 36 bytes
		"a11ce000-0000-4000-8000-00000000000\x00", // NUL
		"a11ce000-0000-4000-8000-00000000000\n",   // newline
		"ａ11ce000-0000-4000-8000-0000000001",      // full-width a (3 bytes)
		"", "-", "../..", "%2F", "..%2F..%2Fetc%2Fpasswd",
		"../../../../../../../../etc/passwd/abcd", // 36+ chars of traversal
		"a11ce000-0000-4000-8000-00000000%2F1",    // encoded slash, 36 chars
		"a11ce000-0000-4000-8000-0000000/../1",    // traversal, 36 chars
		" a11ce000-0000-4000-8000-00000000001",    // leading space, 36 chars
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := ParseID(in)
		if len(in) != 36 && ok {
			t.Fatalf("ParseID(%q) accepted an input of length %d", in, len(in))
		}
		if !ok {
			if got != "" {
				t.Fatalf("ParseID(%q) = (%q, false), want an empty result with false", in, got)
			}
			return
		}
		if len(got) != 36 {
			t.Fatalf("ParseID(%q) = %q: length %d, want 36", in, got, len(got))
		}
		for i := 0; i < len(got); i++ {
			c := got[i]
			switch i {
			case 8, 13, 18, 23:
				if c != '-' {
					t.Fatalf("ParseID(%q) = %q: byte %d is %q, want '-'", in, got, i, c)
				}
			default:
				if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
					t.Fatalf("ParseID(%q) = %q: byte %d is %q, want lower-case hex", in, got, i, c)
				}
			}
		}
		if !strings.EqualFold(got, in) {
			t.Fatalf("ParseID(%q) = %q, which is not the input up to case", in, got)
		}
		again, ok := ParseID(got)
		if !ok || again != got {
			t.Fatalf("ParseID(ParseID(%q)) = (%q, %v), want (%q, true)", in, again, ok, got)
		}
	})
}
