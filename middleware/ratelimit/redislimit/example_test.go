package redislimit_test

import (
	"net/http"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/ratelimit/redislimit"
)

// All replicas sharing one Redis stay together within 10 calls a second
// per connected account, and pause an account together after a 429.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()

	limiter := redislimit.New(rdb, redis_rate.PerSecond(10))
	client := &http.Client{Transport: ratelimit.New(&composiohttp.Transport{}, limiter)}
	_ = client
}
