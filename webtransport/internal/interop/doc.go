// Package interop tests the WebTransport transport against a
// WebTransport-capable Socket.IO server that is not part of this
// repository: zishang520's Go server
// (github.com/zishang520/socket.io/servers/socket/v3), and its fallback
// against the Node server of test/node. It is a module of its own so that
// the server's dependencies stay out of every module that ships.
package interop
