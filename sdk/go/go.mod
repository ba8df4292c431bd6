module github.com/wasmvoice/mediaserver/sdk/go

go 1.26
