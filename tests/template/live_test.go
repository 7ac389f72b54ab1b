package template

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/cfntemplate"
)

// TestLiveChannel holds the live channel's wiring: each WebSocket route integrates its own
// function, which only that route may invoke; $connect takes no authorizer (the ticket is
// the credential) and $default answers the client; the notifier's rule delivers every
// detail-type the API publishes; and the notifier posts to this API's own stage.
func TestLiveChannel(t *testing.T) {
	tpl := load(t)
	res := func(id string) func(...string) string {
		return func(path ...string) string {
			return scalar(get(tpl.Root, append([]string{"Resources", id}, path...)...))
		}
	}
	routes := map[string]string{"$connect": "LiveConnect", "$disconnect": "LiveDisconnect", "$default": "LiveDefault"}
	for key, name := range routes {
		route := res(name + "Route")
		if route("Properties", "RouteKey") != key || route("Properties", "ApiId") != "!Ref LiveApi" {
			t.Errorf("%sRoute must be LiveApi's %s route", name, key)
		}
		if route("Properties", "Target") != "!Sub integrations/${"+name+"Integration}" {
			t.Errorf("%s must target %sIntegration", key, name)
		}
		// Like the HTTP API's routes, each calls its function's alias live, so a deploy
		// shifts the route's traffic under the rollback alarms.
		integration := res(name + "Integration")
		if integration("Properties", "IntegrationType") != "AWS_PROXY" ||
			!strings.Contains(integration("Properties", "IntegrationUri"), "${"+name+"FunctionAliaslive}") {
			t.Errorf("%sIntegration must proxy to %sFunction's alias", name, name)
		}
		perm := res(name + "Permission")
		if perm("Properties", "FunctionName") != "!Ref "+name+"Function.Alias" || perm("Properties", "Principal") != "apigateway.amazonaws.com" ||
			!strings.HasSuffix(perm("Properties", "SourceArn"), "${LiveApi}/*/"+key) {
			t.Errorf("%sPermission must let only LiveApi's %s route invoke %sFunction's alias", name, key, name)
		}
	}
	if res("LiveConnectRoute")("Properties", "AuthorizationType") != "NONE" {
		t.Error("$connect must take no authorizer: live-connect redeems the ticket")
	}
	if res("LiveDefaultRoute")("Properties", "RouteResponseSelectionExpression") != "$default" ||
		res("LiveDefaultRouteResponse")("Properties", "RouteId") != "!Ref LiveDefaultRoute" {
		t.Error("$default must answer the client (a route response)")
	}
	if res("LiveApi")("Properties", "ProtocolType") != "WEBSOCKET" {
		t.Error("LiveApi must be a WebSocket API")
	}

	pattern := get(tpl.Root, "Resources", "LiveNotifyRule", "Properties", "EventPattern")
	types := cfntemplate.Scalars(get(pattern, "detail-type"))
	slices.Sort(types)
	if want := slices.Sorted(maps.Keys(event.Types)); !slices.Equal(types, want) {
		t.Errorf("LiveNotifyRule delivers %v, want every detail-type %v", types, want)
	}
	targets := get(tpl.Root, "Resources", "LiveNotifyRule", "Properties", "Targets").Content
	if len(targets) != 1 || scalar(get(targets[0], "Arn")) != "!Ref LiveNotifyFunction.Alias" ||
		res("LiveNotifyPermission")("Properties", "FunctionName") != "!Ref LiveNotifyFunction.Alias" {
		t.Error("LiveNotifyRule must invoke live-notify's alias live, and only it may")
	}
	endpoint := res("LiveNotifyFunction")("Properties", "Environment", "Variables", config.ConnectionsEndpoint)
	if endpoint != "!Sub https://${LiveApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}" {
		t.Errorf("live-notify must post to LiveApi's stage, not %q", endpoint)
	}
	if res("LiveStage")("Properties", "StageName") != "!Ref Stage" {
		t.Error("LiveStage must be named after the Stage parameter the notifier's endpoint uses")
	}
	// A WebSocket stage's access log needs the account-wide API Gateway CloudWatch role: the
	// first deploy into an account without one fails.
	if get(tpl.Root, "Resources", "LiveStage", "Properties", "AccessLogSettings") != nil && len(tpl.Resources("AWS::ApiGateway::Account")) == 0 {
		t.Error("LiveStage logs access without the account's API Gateway CloudWatch role: its first deploy would fail")
	}
}
