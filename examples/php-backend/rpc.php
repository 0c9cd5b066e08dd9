<?php
// A tagwamp backend in plain PHP: no composer, no WAMP library, no
// long-running process. tagwamp forwards the CALLs under a prefix here
// (the forward section of its configuration) as one POST each:
//
//   {"procedure": "http://example.com/app#add", "args": [2, 3],
//    "session": {"id": "...", "auth_key": "", "tags": {}, "client_ip": "192.0.2.7"}}
//
// and sends the caller {"result": ...} as a CALLRESULT, or
// {"error": {"uri": ..., "desc": ..., "details": ...}} as a CALLERROR.
// Anything else (an exception's 500 page, say) answers the caller
// http://api.wamp.ws/error#internal and nothing more.
//
// To publish, it POSTs to tagwamp's HTTP API (docs/http-api.md).
//
// Try it:  TAGWAMP_API=http://127.0.0.1:8080 php -S 127.0.0.1:9000 rpc.php

declare(strict_types=1);

const APP = 'http://example.com/app#';

// Where tagwamp's HTTP API is, and its key when it has keys (api.keys).
$api = getenv('TAGWAMP_API') ?: 'http://127.0.0.1:8080';
$apiKey = getenv('TAGWAMP_API_KEY') ?: '';

/** Sends the answer tagwamp turns into a CALLRESULT or CALLERROR, and stops. */
function reply(array $answer, int $status = 200): never
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($answer);
    exit;
}

function fail(string $uri, string $desc): never
{
    reply(['error' => ['uri' => $uri, 'desc' => $desc]]);
}

/**
 * Publishes $event to $topic through tagwamp's HTTP API (POST /api/publish)
 * and returns how many subscriptions received it.
 */
function publish(string $api, string $apiKey, string $topic, mixed $event): int
{
    $headers = "Content-Type: application/json\r\n";
    if ($apiKey !== '') {
        $headers .= "Authorization: Bearer $apiKey\r\n";
    }
    $context = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => $headers,
        'content' => json_encode(['topic' => $topic, 'event' => $event]),
        'timeout' => 5,
        'ignore_errors' => true, // read the body of a 4xx too
    ]]);
    $body = file_get_contents($api . '/api/publish', false, $context);
    if ($body === false) {
        throw new RuntimeException('tagwamp API unreachable');
    }
    $status = (int) explode(' ', $http_response_header[0])[1];
    $answer = json_decode($body, true);
    if ($status !== 200) {
        throw new RuntimeException("publish answered $status: " . ($answer['error']['message'] ?? ''));
    }
    return $answer['receivers'];
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    reply(['error' => ['uri' => 'http://api.wamp.ws/error#invalid-argument', 'desc' => 'POST only']], 405);
}
$call = json_decode(file_get_contents('php://input'), true);
if (!is_array($call) || !is_string($call['procedure'] ?? null) || !is_array($call['args'] ?? null)) {
    reply(['error' => ['uri' => 'http://api.wamp.ws/error#invalid-argument', 'desc' => 'not a call']], 400);
}
$args = $call['args'];

switch ($call['procedure']) {
    case APP . 'add':
        $sum = 0;
        foreach ($args as $x) {
            if (!is_int($x) && !is_float($x)) {
                fail('http://api.wamp.ws/error#invalid-argument', 'add takes numbers');
            }
            $sum += $x;
        }
        reply(['result' => $sum]);

    case APP . 'announce':
        $text = $args[0] ?? null;
        if (!is_string($text) || $text === '') {
            fail('http://api.wamp.ws/error#invalid-argument', 'announce takes a text');
        }
        $receivers = publish($api, $apiKey, 'http://example.com/announcements',
            ['text' => $text, 'from' => $call['session']['id']]);
        reply(['result' => ['receivers' => $receivers]]);

    default:
        fail('http://api.wamp.ws/error#NoSuchRPCEndpoint', 'no procedure registered for ' . $call['procedure']);
}
