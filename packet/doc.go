// Package packet encodes and decodes the two protocol layers a Socket.IO
// client speaks: Engine.IO v4 frames (open, close, ping, pong, message,
// upgrade, noop) and the Socket.IO v5 packets carried inside Engine.IO
// message frames, including binary attachments.
//
// Decoders never panic and never allocate in proportion to a number an
// untrusted peer announces; every malformed input yields an error that
// matches one of the sentinel errors below with errors.Is.
//
// Encoding follows one rule: an argument is encoded as json.Marshal encodes
// it, each []byte in it replaced by an attachment placeholder numbered in
// document order (see JSON.Encode for the byte-level details). Decoding is
// json.Unmarshal with placeholders resolved against the attachments; in a
// packet that carries none, a placeholder object is plain data.
//
// All functions are safe for concurrent use. A Decoder holds the state of one
// connection's attachment reassembly and must be used by one goroutine.
package packet
