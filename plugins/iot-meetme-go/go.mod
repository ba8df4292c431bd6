module github.com/wasmvoice/mediaserver/plugins/iot-meetme-go

go 1.26

require github.com/wasmvoice/mediaserver/sdk/go v0.0.0

replace github.com/wasmvoice/mediaserver/sdk/go => ../../sdk/go
