package msgpack_test

import (
	"context"
	"fmt"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/msgpack"
)

// A server created with parser: require("socket.io-msgpack-parser") needs
// the msgpack codec; everything else is as with the default one.
func ExampleCodec() {
	ctx := context.Background()
	s, err := sio.Dial(ctx, "http://localhost:3000/", sio.WithCodec(msgpack.Codec{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	_ = s.Emit(ctx, "upload", map[string]any{"name": "a.bin", "data": []byte{1, 2, 3}}) // bin, inline
}
