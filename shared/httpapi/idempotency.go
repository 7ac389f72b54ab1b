package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// IdempotencyHeader is the optional header that makes a POST safe to retry.
const IdempotencyHeader = "Idempotency-Key"

// ReplayedHeader marks a response that repeats an earlier attempt's outcome.
const ReplayedHeader = "Idempotent-Replayed"

// idempotency identifies the request for safe retries. With an Idempotency-Key header the
// key is the client's (scoped by a prefix so it can never match an invocation token);
// without one it is the invocation's own id, so the SDK's retry of a write whose response
// was lost still finds its write. The fingerprint covers who asks for what: the function,
// the caller, the entity and the normalised body, so whitespace in the JSON does not
// matter but a different reason does.
func idempotency(r *http.Request, fn string, actor lifecycle.Actor, id, reason string) (lifecycle.Idempotency, error) {
	sum := sha256.Sum256([]byte(fn + "\x00" + actor.Sub + "\x00" + id + "\x00" + reason))
	idem := lifecycle.Idempotency{Fingerprint: hex.EncodeToString(sum[:16])}
	if key, n := clientHeader(r, IdempotencyHeader); n > 0 {
		if n > 1 || !validIdempotencyKey(key) {
			return idem, invalid("Idempotency-Key must be one value of 1 to 255 visible ASCII characters")
		}
		idem.Key, idem.Client = "key:"+key, true
		return idem, nil
	}
	if lc, ok := lambdacontext.FromContext(r.Context()); ok && lc.AwsRequestID != "" {
		idem.Key = "invocation:" + lc.AwsRequestID
	} else {
		idem.Key = "invocation:" + lifecycle.NewID()
	}
	return idem, nil
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	return !strings.ContainsFunc(k, func(c rune) bool { return c < 0x21 || c > 0x7e })
}
