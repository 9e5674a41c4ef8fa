package rediscache_test

import (
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/cache/rediscache"
)

// Replicas share one cache in Redis; the client fails fast when Redis is
// down, so calls degrade to uncached ones quickly.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{
		Addr:          "localhost:6379",
		DialerRetries: 1,
		MaxRetries:    -1,
		DialTimeout:   200 * time.Millisecond,
		ReadTimeout:   200 * time.Millisecond,
		WriteTimeout:  200 * time.Millisecond,
	})
	defer rdb.Close()
	client := &http.Client{Transport: cache.New(&composiohttp.Transport{ConnectedAccountID: "ca_1"},
		cache.WithStore(rediscache.New(rdb)))}
	_ = client
}
