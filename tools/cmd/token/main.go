// Command token is `make token`: it prints a dev token for a subject and roles, or for a
// service and its scopes, signed with this checkout's key, which the local API (`make run`)
// accepts in place of the JWT authorizer's tokens.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
)

// errUsage: the flags were wrong, and the flag package has said how, with the usage.
var errUsage = errors.New("usage")

func main() {
	err := token(os.Args[1:])
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	sub := fs.String("sub", "", "subject (user id)")
	roles := fs.String("roles", "", "comma-separated roles, e.g. Dispatcher,Admin")
	scopes := fs.String("scopes", "", "comma-separated scopes: a service's token (client credentials), e.g. lifecycle/interviews.progress")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *sub == "" {
		return errors.New("-sub is required (make token SUB=alice)")
	}
	key, err := devauth.CheckoutKey()
	if err != nil {
		return err
	}
	var tok string
	switch {
	case *scopes != "" && *roles != "":
		return errors.New("a service's token (-scopes) carries no roles")
	case *scopes != "":
		tok, err = devauth.MintService(key, *sub, list(*scopes), *ttl, time.Now())
	default:
		tok, err = devauth.Mint(key, *sub, list(*roles), *ttl, time.Now())
	}
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// list splits a comma-separated flag; a role or scope holds no comma or space.
func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}
