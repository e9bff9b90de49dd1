package transport

import (
	"bytes"
	"fmt"
	"io"
)

// Chunk sizes of readAll: the first chunk, and the largest one; the chunks
// double in between.
const (
	firstChunk = 512
	maxChunk   = 1 << 20
)

// readAll reads r to its end, like io.ReadAll, into chunks of at most
// maxChunk bytes that are joined only once r has ended. A read that fails
// half-way, as one over a read limit does, so costs about what it read:
// neither the doubling of a growing buffer nor io.ReadAll's final copy,
// which together made a frame refused at a limit of 32 MiB cost 64 to
// 128 MiB. A result that fits in the first chunk is returned without a copy.
// Only io.EOF ends r: any other error, io.ErrUnexpectedEOF from a body cut
// short included, is returned.
func readAll(r io.Reader) ([]byte, error) {
	var chunks [][]byte
	buf := make([]byte, 0, firstChunk)
	total := 0
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			chunks = append(chunks, buf)
			buf = make([]byte, 0, min(2*cap(buf), maxChunk))
		}
	}
	if len(chunks) == 0 {
		return buf, nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, buf...), nil
}

// recordLimiter fails a read of an Engine.IO v4 polling body as soon as one
// record (the bytes between two separators) exceeds max bytes, so that a
// body holding one huge frame is refused once max bytes of it were read,
// rather than at the limit of the whole body.
type recordLimiter struct {
	r   io.Reader
	max int64 // the longest record allowed
	n   int64 // bytes of the current record so far
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for data := p[:n]; ; {
		i := bytes.IndexByte(data, separator)
		if i < 0 {
			l.n += int64(len(data))
			break
		}
		if l.n+int64(i) > l.max {
			l.n += int64(i)
			break
		}
		l.n, data = 0, data[i+1:]
	}
	if l.n > l.max {
		return n, fmt.Errorf("%w: a polling record of more than %d bytes, longer than any frame within the read limit", ErrFrameTooLarge, l.max)
	}
	return n, err
}

// separator joins the records of an Engine.IO v4 polling body.
const separator = 0x1e

// bodyLimiter fails a read, with ErrFrameTooLarge, once more than limit
// bytes were read, where io.LimitReader would end the body there: readAll
// then drops what it read rather than join it.
type bodyLimiter struct {
	r        io.Reader
	limit, n int64
}

func (l *bodyLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.n += int64(n); l.n > l.limit {
		return n, fmt.Errorf("%w: polling response exceeds the read limit of %d bytes", ErrFrameTooLarge, l.limit)
	}
	return n, err
}
