package abi

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestIntUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Int
		wantErr error
	}{
		{name: "number", in: `5`, want: Int{Value: 5, Set: true}},
		{name: "string", in: `"10"`, want: Int{Value: 10, Set: true}},
		{name: "negative", in: `-3`, want: Int{Value: -3, Set: true}},
		{name: "zero", in: `0`, want: Int{Value: 0, Set: true}},
		{name: "null", in: `null`, want: Int{}},
		{name: "fraction", in: `5.5`, wantErr: ErrInvalidInt},
		{name: "exponent", in: `1e3`, wantErr: ErrInvalidInt},
		{name: "word string", in: `"five"`, wantErr: ErrInvalidInt},
		{name: "empty string", in: `""`, wantErr: ErrInvalidInt},
		{name: "padded string", in: `" 5"`, wantErr: ErrInvalidInt},
		{name: "bool", in: `true`, wantErr: ErrInvalidInt},
		{name: "array", in: `[1]`, wantErr: ErrInvalidInt},
		{name: "overflow", in: `99999999999999999999`, wantErr: ErrInvalidInt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Int
			err := json.Unmarshal([]byte(tt.in), &got)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBoolUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Bool
		wantErr error
	}{
		{name: "true", in: `true`, want: Bool{Value: true, Set: true}},
		{name: "false", in: `false`, want: Bool{Value: false, Set: true}},
		{name: "string True", in: `"True"`, want: Bool{Value: true, Set: true}},
		{name: "string false", in: `"false"`, want: Bool{Value: false, Set: true}},
		{name: "null", in: `null`, want: Bool{}},
		{name: "number", in: `1`, wantErr: ErrInvalidBool},
		{name: "yes", in: `"yes"`, wantErr: ErrInvalidBool},
		{name: "object", in: `{}`, wantErr: ErrInvalidBool},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Bool
			err := json.Unmarshal([]byte(tt.in), &got)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIntBoolMarshal(t *testing.T) {
	type wrap struct {
		A Int  `json:"A,omitzero"`
		B Bool `json:"B,omitzero"`
		C Int  `json:"C"`
	}
	tests := []struct {
		name string
		in   wrap
		want string
	}{
		{name: "unset", in: wrap{}, want: `{"C":null}`},
		{name: "set zero", in: wrap{A: NewInt(0), B: NewBool(false), C: NewInt(7)}, want: `{"A":0,"B":false,"C":7}`},
		{name: "set", in: wrap{A: NewInt(-12), B: NewBool(true)}, want: `{"A":-12,"B":true,"C":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestIntOr(t *testing.T) {
	tests := []struct {
		name string
		in   Int
		want int
	}{
		{name: "unset uses default", in: Int{}, want: 30},
		{name: "set zero wins", in: NewInt(0), want: 0},
		{name: "set", in: NewInt(5), want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Or(30); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}
