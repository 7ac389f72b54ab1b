// Command hello is the baseline for `make bench`: the smallest aws-lambda-go function,
// built exactly like the real ones, so cold start and size can be compared with it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (map[string]string, error) {
		return map[string]string{"hello": "world"}, nil
	})
}
