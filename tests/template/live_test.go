package template

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/liveapi"
	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
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
	if res("LiveApi")("Properties", "ProtocolType") != "WEBSOCKET" || res("LiveApi")("Properties", "RouteSelectionExpression") != "$request.body.type" {
		t.Error("LiveApi must be a WebSocket API selecting routes by the message's type")
	}
	// A ping invokes no function (issue 23): API Gateway answers it itself, through a MOCK
	// integration whose response is the pong the local gateway and clients know.
	ping, pingInteg := res("LivePingRoute"), res("LivePingIntegration")
	if ping("Properties", "RouteKey") != liveapi.PingRoute || ping("Properties", "Target") != "!Sub integrations/${LivePingIntegration}" ||
		ping("Properties", "RouteResponseSelectionExpression") != "$default" || res("LivePingRouteResponse")("Properties", "RouteId") != "!Ref LivePingRoute" {
		t.Errorf("LivePingRoute must be LiveApi's %q route, answering the client through LivePingIntegration", liveapi.PingRoute)
	}
	if pingInteg("Properties", "IntegrationType") != "MOCK" || pingInteg("Properties", "RequestTemplates", "$default") != `{"statusCode": 200}` {
		t.Error("LivePingIntegration must be a MOCK integration that always succeeds")
	}
	if r := res("LivePingIntegrationResponse"); r("Properties", "IntegrationId") != "!Ref LivePingIntegration" ||
		r("Properties", "IntegrationResponseKey") != "$default" || r("Properties", "ResponseTemplates", "$default") != liveapi.Pong {
		t.Errorf("LivePingIntegrationResponse must answer %s", liveapi.Pong)
	}
	if get(tpl.Root, "Resources", "LiveStage", "Properties", "RouteSettings", liveapi.PingRoute) != nil {
		t.Error("pings keep the stage's default limits: every open connection sends them")
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
	// What API Gateway refuses before a function runs (a flood's 429s) is only in the
	// stage's access log. It writes through the account's API Gateway CloudWatch role, a
	// step of First deploy (issue 23).
	if dest := res("LiveStage")("Properties", "AccessLogSettings", "DestinationArn"); dest != "!GetAtt LiveAccessLogs.Arn" {
		t.Errorf("LiveStage logs access to %q, want LiveAccessLogs", dest)
	}
	// $connect admits pages of the frontends' origins only (issue 23).
	if v := flow(get(tpl.Root, "Resources", "LiveConnectFunction", "Properties", "Environment", "Variables", config.LiveAllowedOrigins)); v != "!Join [,, !Ref CorsAllowedOrigins]" {
		t.Errorf("live-connect's %s is %q, want the API's CorsAllowedOrigins", config.LiveAllowedOrigins, v)
	}
	// The per-caller limits (issue 23) come from parameters whose defaults are the ones
	// make run and the tests use.
	limits := live.DefaultUserLimits()
	for _, c := range []struct{ fn, env, param, want string }{
		{"LiveConnectFunction", config.LiveConnectionsPerUser, "LiveConnectionsPerUser", strconv.Itoa(limits.Connections)},
		{"LiveTicketFunction", config.LiveTicketsPerMinute, "LiveTicketsPerMinute", strconv.Itoa(limits.TicketsPerMinute)},
	} {
		if v := res(c.fn)("Properties", "Environment", "Variables", c.env); v != "!Ref "+c.param {
			t.Errorf("%s's %s is %q, want the %s parameter", c.fn, c.env, v, c.param)
		}
		if d := scalar(get(tpl.Root, "Parameters", c.param, "Default")); d != c.want {
			t.Errorf("%s defaults to %q, want %s (live.DefaultUserLimits)", c.param, d, c.want)
		}
	}
	if ops := readDoc(t, "docs/operations.md"); !strings.Contains(ops, "aws apigateway update-account") {
		t.Error("docs/operations.md's First deploy must set the account's API Gateway CloudWatch role the WebSocket access log needs")
	}
}

// TestLiveRoutesAnyoneCanReachHaveTheirOwnLimits (issue 23): $connect has no authorizer and
// $default takes any client's messages; each has a throttle of its own, lower than the
// routes' default, so a flood of either leaves the others their limit.
func TestLiveRoutesAnyoneCanReachHaveTheirOwnLimits(t *testing.T) {
	tpl := load(t)
	params := parameters(tpl)
	def := func(name string) int {
		n, err := strconv.Atoi(scalar(get(params[name], "Default")))
		if err != nil {
			t.Fatalf("parameter %s: %v", name, err)
		}
		return n
	}
	settings := get(tpl.Root, "Resources", "LiveStage", "Properties", "RouteSettings")
	for route, ps := range map[string][2]string{"$connect": {"LiveConnectThrottleRate", "LiveConnectThrottleBurst"}, "$default": {"LiveMessageThrottleRate", "LiveMessageThrottleBurst"}} {
		rs := get(settings, route)
		if scalar(get(rs, "ThrottlingRateLimit")) != "!Ref "+ps[0] || scalar(get(rs, "ThrottlingBurstLimit")) != "!Ref "+ps[1] {
			t.Errorf("LiveStage's %s has no throttle of its own (%s, %s)", route, ps[0], ps[1])
			continue
		}
		if def(ps[0]) >= def("ApiThrottleRate") || def(ps[1]) >= def("ApiThrottleBurst") {
			t.Errorf("%s's limits (%d, %d) are not below the routes' default (%d, %d)", route, def(ps[0]), def(ps[1]), def("ApiThrottleRate"), def("ApiThrottleBurst"))
		}
	}
}
