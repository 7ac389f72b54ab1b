package live

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// A ticket secret is 256 random bits, 43 characters once encoded (unpadded base64url).
const (
	ticketBytes  = 32
	ticketLength = 43
)

// NewTicketSecret returns a fresh ticket secret: 256 random bits, base64url without
// padding, so it is a valid subprotocol token.
func NewTicketSecret() string {
	var b [ticketBytes]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// TicketKey is what the store keys a ticket by: the SHA-256 of its secret, so the table
// never holds a usable ticket.
func TicketKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether s could be a secret NewTicketSecret made; anything else is
// refused before the store is asked.
func wellFormed(s string) bool {
	if len(s) != ticketLength {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// TicketFromSubprotocols reads the ticket a client offered in Sec-WebSocket-Protocol
// (its values comma-separated, possibly over several header lines). The client must offer
// Subprotocol and exactly one ticket.
func TicketFromSubprotocols(values []string) (string, bool) {
	ticket, offered, tickets := "", false, 0
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			switch {
			case p == Subprotocol:
				offered = true
			case strings.HasPrefix(p, TicketProtocolPrefix):
				ticket = strings.TrimPrefix(p, TicketProtocolPrefix)
				tickets++
			}
		}
	}
	if !offered || tickets != 1 || !wellFormed(ticket) {
		return "", false
	}
	return ticket, true
}
