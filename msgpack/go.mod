module github.com/sio-go/sio/msgpack

go 1.26.0

require (
	github.com/sio-go/sio v0.0.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
)

replace github.com/sio-go/sio => ../
