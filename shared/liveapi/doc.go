// Package liveapi is the live channel's face to AWS Lambda, on the rules of shared/live:
//
//   - the WebSocket API's routes: $connect (Connect) refuses a page of an origin not
//     admitted, redeems the ticket the client offers as a subprotocol and records the
//     connection; $disconnect (Disconnect) forgets it; $default (Default) answers a ping
//     and refuses anything else;
//   - fan-out (Notifier): the EventBridge rule's target, sending each event to exactly the
//     entitled connections, concurrently within a bound, removing gone ones, and failing
//     the invocation when an entitled connection could not be reached.
//
// The stores (shared/dynamo) and the sender (shared/live/push) are its ports' adapters.
// docs/live.md describes the channel.
package liveapi
