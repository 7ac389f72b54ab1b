package auth

import (
	"strconv"
	"strings"
	"time"
)

// TokenExpiry reads when the verified token expires, from its "exp" claim (seconds since
// the epoch, as the authorizer delivers every claim: a string). ok is false when the claim
// is absent or unreadable.
func TokenExpiry(claims map[string]string) (time.Time, bool) {
	exp, err := strconv.ParseInt(strings.TrimSpace(claims["exp"]), 10, 64)
	if err != nil || exp <= 0 {
		return time.Time{}, false
	}
	return time.Unix(exp, 0).UTC(), true
}
