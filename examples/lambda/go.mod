module github.com/seed-ff2808ae/cookiesession/examples/lambda

go 1.25.0

replace github.com/seed-ff2808ae/cookiesession => ../../

require (
	github.com/aws/aws-lambda-go v1.54.0
	github.com/awslabs/aws-lambda-go-api-proxy v0.16.2
	github.com/seed-ff2808ae/cookiesession v0.0.0
)

require (
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
