package webtransport_test

import (
	"context"
	"fmt"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/webtransport"
)

// WebTransport first, then polling and WebSocket if it fails.
func ExampleEnable() {
	ctx := context.Background()
	s, err := sio.Dial(ctx, "https://example.com/", webtransport.Enable(nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	fmt.Println(s.Manager().Transport())
}
