// Package ack provides futures for acknowledgements and the table of pending
// acknowledgements a Socket.IO socket keeps.
//
// A Future resolves exactly once: with the peer's reply, or with an error
// when the connection ends, the socket closes, or a waiter's context ends.
// A Table hands out increasing ids, resolves the future registered under an
// id when its reply arrives, drops replies for ids it does not know, and
// fails every pending future at once when the connection ends.
package ack
