module github.com/tagwamp/tagwamp

go 1.26.0

require (
	github.com/gobwas/ws v1.5.0
	github.com/goccy/go-json v0.12.0
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/mailru/easygo v0.0.0-20190618140210-3c14a0dc985f
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/gobwas/httphead v0.1.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
