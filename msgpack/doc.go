// Package msgpack is the Socket.IO packet format of the official
// socket.io-msgpack-parser, for servers created with
//
//	new Server(httpServer, { parser: require("socket.io-msgpack-parser") })
//
// Use it with sio.WithCodec:
//
//	s, err := sio.Dial(ctx, url, sio.WithCodec(msgpack.Codec{}))
//
// It lives in a module of its own (github.com/sio-go/sio/msgpack) so that
// programs that do not need it do not download its MessagePack library,
// github.com/vmihailenco/msgpack/v5.
//
// Every Socket.IO packet is one binary Engine.IO message holding the map
// {type, nsp, data, id}. Binary values travel inline as MessagePack bin, at
// any depth, with no attachments; over HTTP long-polling those messages go
// base64-encoded, as the official client sends them. Everything else works
// as with the default JSON codec: events, acknowledgements both ways,
// namespaces, auth, connection state recovery, every transport.
//
// What differs, for a program:
//   - Args.Raw returns an argument's MessagePack encoding (in a
//     json.RawMessage, which is only its type), not JSON; Args.String shows
//     the arguments decoded, as JSON.
//   - Args.Decode decodes into the same destinations, reading `json` struct
//     tags, but an integer decoded into an any is an int64 (uint64 above
//     math.MaxInt64), not a float64: MessagePack tells integers from floats.
//   - A json.RawMessage argument to Emit is sent as the JSON value it holds,
//     at the top level only; a time.Time is sent as the standard timestamp
//     extension, which the JS parser does not read as a Date.
//   - ConnectError.Data is the error's data turned into JSON (bin as base64).
//
// There is no way to tell from the handshake which parser a server uses: a
// client speaking the wrong one is disconnected ("transport close").
package msgpack
