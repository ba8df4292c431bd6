//go:build !wasip1

package mstest

import (
	"reflect"
	"testing"
)

func TestParseGolden(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    Case
		wantErr bool
	}{
		{name: "plain", text: "{\"a\":1}\n----\n{}\n", want: Case{Name: "plain", Event: `{"a":1}`, Response: `{}`}},
		{name: "kv lines", text: "kv iot/s1/conference s1/5\nkv k a value with spaces\n{\"a\":1}\n----\n{}",
			want: Case{Name: "kv lines", KV: [][2]string{{"iot/s1/conference", "s1/5"}, {"k", "a value with spaces"}}, Event: `{"a":1}`, Response: `{}`}},
		{name: "no separator", text: "{}\n{}", wantErr: true},
		{name: "kv without value", text: "kv key\n{}\n----\n{}", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGolden(tt.name, tt.text)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
