package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/m7import/m7import/job"

	"golang.org/x/time/rate"

	"github.com/m7import/m7import/api"
)

// apiFlags are the connection settings every command that talks to 7moor
// takes. The secret is read from M7_SECRET or a file, never from a flag.
type apiFlags struct {
	appKey     string
	secretFile string
	baseURL    string
	timeout    time.Duration
	secretFlag string // only to refuse it with a clear message
}

func (a *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.appKey, "appkey", "", "account app key (default $M7_APPKEY)")
	fs.StringVar(&a.secretFile, "secret-file", "", "file holding the secret key (default $M7_SECRET_FILE; or set $M7_SECRET)")
	fs.StringVar(&a.baseURL, "base-url", "", "API base URL (default $M7_BASE_URL or "+api.DefaultBaseURL+")")
	fs.DurationVar(&a.timeout, "timeout", 30*time.Second, "timeout of each request")
	fs.StringVar(&a.secretFlag, "secret", "", "not accepted: put the secret in $M7_SECRET or a --secret-file")
}

// client builds the API client from the flags and the environment; lim,
// when set, paces every request it sends.
func (a *apiFlags) client(io stdio, lim *rate.Limiter) (*api.Client, error) {
	if a.secretFlag != "" {
		return nil, usagef("--secret is not accepted (it would show in ps and shell history): set M7_SECRET or use --secret-file")
	}
	cfg, err := a.config(io)
	if err != nil {
		return nil, err
	}
	cfg.Limiter = lim
	c, err := api.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure API client: %w", err)
	}
	return c, nil
}

func (a *apiFlags) config(io stdio) (api.Config, error) {
	cfg := api.Config{AppKey: a.appKey, BaseURL: a.baseURL, Timeout: a.timeout}
	if cfg.AppKey == "" {
		cfg.AppKey = io.Getenv("M7_APPKEY")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = io.Getenv("M7_BASE_URL")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = api.DefaultBaseURL
	}
	secretFile := a.secretFile
	if secretFile == "" {
		secretFile = io.Getenv("M7_SECRET_FILE")
	}
	switch {
	case secretFile != "":
		secret, err := api.ReadSecretFile(secretFile)
		if err != nil {
			return cfg, err
		}
		cfg.Secret = secret
	default:
		cfg.Secret = io.Getenv("M7_SECRET")
	}
	if cfg.AppKey == "" || cfg.Secret == "" {
		return cfg, job.WithHint(fmt.Errorf("no credentials: set M7_APPKEY and M7_SECRET (or M7_SECRET_FILE / --secret-file)"), "m7import validate FILE   (checks a file without credentials)")
	}
	return cfg, nil
}
