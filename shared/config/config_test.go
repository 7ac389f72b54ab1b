package config

import (
	"context"
	"testing"
)

func TestLoadNeedsATable(t *testing.T) {
	t.Setenv("TABLE_NAME", "")
	f, err := Load(context.Background(), "get-interview")
	if err == nil {
		t.Fatal("Load without TABLE_NAME succeeded")
	}
	if f.Logger == nil {
		t.Fatal("Load must return a logger even when it fails")
	}
}

func TestLoadBuildsTheClient(t *testing.T) {
	t.Setenv("TABLE_NAME", "lifecycle")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	f, err := Load(context.Background(), "get-interview")
	if err != nil {
		t.Fatal(err)
	}
	if f.Table != "lifecycle" || f.DB == nil || f.DB.Options().Region != "eu-west-1" {
		t.Fatalf("loaded %+v", f)
	}
}
