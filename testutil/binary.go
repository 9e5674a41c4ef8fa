package testutil

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/composiohttp/composiohttp"
)

// blob is a stored binary body.
type blob struct {
	data        []byte
	contentType string
	expires     time.Time
}

// DefaultBinaryStore is the most bytes of binary bodies (binary_data
// replies, Upload) the fake keeps at once. See WithBinaryStore.
const DefaultBinaryStore = 512 << 20

// WithBinaryStore bounds the bytes of binary bodies the fake keeps behind
// signed URLs (binary_data replies and Upload): when a new body would
// exceed n, the oldest are dropped first, and their URLs answer 404
// NoSuchKey as S3 does for a deleted object. A body larger than n on its
// own is kept alone. Bodies are also dropped an hour after their URL
// expires. n ≤ 0 leaves the default, DefaultBinaryStore.
func WithBinaryStore(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.binaryStore = n
		}
	}
}

// storeBlob keeps data behind a signed URL and describes it.
func (s *Server) storeBlob(data []byte, contentType string) *composiohttp.BinaryData {
	now := s.cfg.now()
	exp := now.Add(s.cfg.binaryTTL)
	s.mu.Lock()
	s.blobSeq++
	id := fmt.Sprintf("b%d_%s", s.blobSeq, randomHex(4))
	s.pruneLocked(now)
	size := int64(cap(data))
	for len(s.blobOrder) > 0 && s.blobBytes+size > s.cfg.binaryStore { // the oldest first
		old := s.blobOrder[0]
		s.blobOrder = s.blobOrder[1:]
		if b, ok := s.blobs[old]; ok {
			s.blobBytes -= int64(cap(b.data))
			delete(s.blobs, old)
		}
	}
	s.blobs[id] = &blob{data: data, contentType: contentType, expires: exp}
	s.blobOrder = append(s.blobOrder, id)
	s.blobBytes += size
	s.mu.Unlock()
	return &composiohttp.BinaryData{
		URL:         s.signedURL(id, exp),
		ContentType: contentType,
		Size:        int64(len(data)),
		ExpiresAt:   exp.UTC().Format(time.RFC3339),
	}
}

// pruneLocked drops blobs expired for a while, at most once a minute.
func (s *Server) pruneLocked(now time.Time) {
	if now.Sub(s.lastPruned) < time.Minute {
		return
	}
	s.lastPruned = now
	for id, b := range s.blobs {
		if now.Sub(b.expires) > time.Hour {
			s.blobBytes -= int64(cap(b.data))
			delete(s.blobs, id)
		}
	}
	s.blobOrder = slices.DeleteFunc(s.blobOrder, func(id string) bool { return s.blobs[id] == nil })
}

func (s *Server) signedURL(id string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return s.URL + binaryPathPrefix + id + "?exp=" + e + "&sig=" + s.sign(id, e)
}

func (s *Server) sign(id, exp string) string {
	m := hmac.New(sha256.New, s.signKey)
	io.WriteString(m, id+"\n"+exp)
	return hex.EncodeToString(m.Sum(nil))
}

// Upload stores body on the fake and returns a signed URL to it, expiring
// like binary_data URLs. Its signature is composiohttp.UploadFunc's, so
// that a Transport can use it for bodies over MaxInlineBody:
// t.Upload = s.Upload. The fake fetches its own URLs in process.
func (s *Server) Upload(ctx context.Context, body io.Reader, size int64, contentType string) (string, error) {
	data, err := readGrowing(body, size)
	if err != nil {
		return "", fmt.Errorf("testutil: upload: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if s.URL == "" {
		return "", errors.New("testutil: upload: Server.URL is not set")
	}
	if contentType == "" {
		contentType = defaultBinaryType
	}
	return s.storeBlob(data, contentType).URL, nil
}

// serveBinary serves GET and HEAD /binary/<id>?exp=..&sig=.., answering
// like S3: 403 for a bad signature or an expired URL, 404 for an unknown
// blob.
func (s *Server) serveBinary(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	d := Download{
		ID:     strings.TrimPrefix(r.URL.Path, binaryPathPrefix),
		Header: redact(r.Header),
		HadAPIKey: r.Header.Get(headerAPIKey) != "" || r.Header.Get(headerUserAPIKey) != "" ||
			r.Header.Get(headerAuthorization) != "",
		Time: s.cfg.now(),
	}
	defer func() {
		d.Status = sw.status
		s.mu.Lock()
		s.downloads.add(d, d.size())
		s.mu.Unlock()
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		sw.Header().Set(headerAllow, "GET, HEAD")
		s3Error(sw, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	q := r.URL.Query()
	exp, sig := q.Get("exp"), q.Get("sig")
	if !hmac.Equal([]byte(sig), []byte(s.sign(d.ID, exp))) {
		s3Error(sw, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !d.Time.Before(time.Unix(e, 0)) {
		s3Error(sw, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	s.mu.Lock()
	b, ok := s.blobs[d.ID]
	s.mu.Unlock()
	if !ok {
		s3Error(sw, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	sw.Header().Set(headerContentType, b.contentType)
	http.ServeContent(sw, r, "", time.Time{}, bytes.NewReader(b.data))
}

func s3Error(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set(headerContentType, "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, message)
}
