package packet

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error a decoding function returns is a *DecodeError
// whose Err is one of these, so both errors.Is and errors.As work on it.
// Encode wraps the relevant sentinel (or the encoding/json error) with
// fmt.Errorf.
var (
	// ErrBadFrame reports an Engine.IO frame that is empty or does not
	// start with a packet type digit '0' to '6', or a frame handed to a
	// Socket.IO decoder that is not a message.
	ErrBadFrame = errors.New("packet: malformed Engine.IO frame")
	// ErrBadOpen reports an Engine.IO open packet whose handshake data is
	// not valid.
	ErrBadOpen = errors.New("packet: malformed Engine.IO open packet")
	// ErrUnknownType reports a Socket.IO packet type outside '0' to '6'.
	ErrUnknownType = errors.New("packet: unknown Socket.IO packet type")
	// ErrBadNamespace reports a namespace that is not terminated by ','
	// before the payload, or one that cannot be encoded.
	ErrBadNamespace = errors.New("packet: malformed namespace")
	// ErrBadID reports an acknowledgement id that does not fit in a uint64.
	ErrBadID = errors.New("packet: malformed acknowledgement id")
	// ErrBadJSON reports a payload that is not valid JSON (including one
	// that is not valid UTF-8).
	ErrBadJSON = errors.New("packet: payload is not valid JSON")
	// ErrBadPayload reports valid JSON that the packet type does not allow
	// (for example an EVENT whose array is empty or names a reserved event,
	// or an ACK without an id).
	ErrBadPayload = errors.New("packet: invalid payload for packet type")
	// ErrTooManyAttachments reports a binary packet announcing more
	// attachments than the decoder accepts.
	ErrTooManyAttachments = errors.New("packet: too many binary attachments")
	// ErrMissingAttachments reports a text frame that arrived while a binary
	// packet still waited for attachments.
	ErrMissingAttachments = errors.New("packet: text frame while binary attachments are missing")
	// ErrUnexpectedAttachment reports a binary frame that arrived when no
	// binary packet was waiting for one.
	ErrUnexpectedAttachment = errors.New("packet: unexpected binary attachment")
	// ErrBadAttachment reports a malformed attachment count or a
	// placeholder that does not refer to a received attachment.
	ErrBadAttachment = errors.New("packet: invalid binary attachment reference")
)

// maxErrorInput is how many bytes of the offending input a DecodeError keeps.
const maxErrorInput = 64

// DecodeError is the error returned by the decoding functions of this
// package. It wraps one of the sentinel errors and keeps the beginning of
// the offending input for error messages.
type DecodeError struct {
	// Err is the sentinel error describing the failure (ErrBadFrame, ...).
	Err error
	// Input is the first bytes (at most 64) of the input that failed.
	Input string
}

// Error returns the sentinel's message followed by the quoted input.
func (e *DecodeError) Error() string {
	msg := "packet: decode error"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Input == "" {
		return msg
	}
	return msg + " in " + strconv.Quote(e.Input)
}

// Unwrap returns the wrapped sentinel error.
func (e *DecodeError) Unwrap() error { return e.Err }

// decodeError builds a *DecodeError keeping at most maxErrorInput bytes of
// input.
func decodeError(err error, input []byte) error {
	if len(input) > maxErrorInput {
		input = input[:maxErrorInput]
	}
	return &DecodeError{Err: err, Input: string(input)}
}
