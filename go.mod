module github.com/sio-go/sio

go 1.26.8

require (
	github.com/coder/websocket v1.8.15 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
)
