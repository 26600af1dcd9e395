<?php
// Demo storefront: configuration, database and session set-up shared by every page.
// The configuration is rendered at boot by shop-configure (/etc/shop/app.json); the
// image itself carries none of it.
declare(strict_types=1);

const SHOP_CONFIG = '/etc/shop/app.json';

function shop_config(): array
{
    static $config = null;
    if ($config === null) {
        $raw = is_readable(SHOP_CONFIG) ? file_get_contents(SHOP_CONFIG) : false;
        $parsed = $raw === false ? null : json_decode($raw, true);
        $config = is_array($parsed) ? $parsed : [];
    }
    return $config;
}

function shop_db(): PDO
{
    $db = shop_config()['database'] ?? null;
    if (!$db) {
        throw new RuntimeException('no database settings in ' . SHOP_CONFIG);
    }
    $dsn = sprintf('mysql:host=%s;port=%d;dbname=%s;charset=utf8mb4', $db['host'], (int) $db['port'], $db['name']);
    $options = [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
        PDO::ATTR_TIMEOUT => 2,
    ];
    if (!empty($db['ssl_ca'])) {
        // TLS, the server's certificate verified against the stack's CA bundle (the database
        // refuses connections without TLS: require_secure_transport).
        $options[PDO::MYSQL_ATTR_SSL_CA] = $db['ssl_ca'];
        $options[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] = true;
    }
    return new PDO($dsn, $db['user'], $db['password'], $options);
}

/**
 * Spends the page's rendering cost: app.page_cpu_ms milliseconds of this process's CPU time
 * (compute_app_settings 'page-cpu-ms'; 0, the default, spends nothing). This demo's page costs
 * well under a millisecond, a real storefront's templates and framework far more: a load test
 * sets the cost it wants an instance to carry. CPU time, not wall time, so that under a CPU
 * quota the work waits as a real page's would. At most a second.
 */
function shop_spend_page_cpu(): void
{
    $ms = min(1000.0, (float) (shop_config()['app']['page_cpu_ms'] ?? 0));
    if ($ms <= 0) {
        return;
    }
    $used = static function (): float {
        $usage = getrusage();
        return ($usage['ru_utime.tv_sec'] + $usage['ru_stime.tv_sec']) * 1000.0
            + ($usage['ru_utime.tv_usec'] + $usage['ru_stime.tv_usec']) / 1000.0;
    };
    $until = $used() + $ms;
    $sum = 0;
    while ($used() < $until) {
        for ($i = 0; $i < 2000; $i++) {
            $sum += $i * $i;
        }
    }
}

function shop_session_start(): void
{
    $cache = shop_config()['cache'] ?? [];
    if (!empty($cache['host'])) {
        // Sessions in Redis: any instance of the fleet serves any visitor.
        ini_set('session.save_handler', 'redis');
        $port = (int) ($cache['port'] ?? 6379);
        if (!empty($cache['tls'])) {
            // ElastiCache with encryption in transit and AUTH: TLS, the node's certificate
            // verified (against the stack's CA bundle when it names one), the token sent.
            $query = ['auth' => (string) ($cache['auth'] ?? ''), 'stream' => ['verify_peer' => 1, 'verify_peer_name' => 1]];
            if (!empty($cache['ca'])) {
                $query['stream']['cafile'] = $cache['ca'];
            }
            ini_set('session.save_path', sprintf('tls://%s:%d?%s', $cache['host'], $port, http_build_query($query)));
        } else {
            ini_set('session.save_path', sprintf('tcp://%s:%d', $cache['host'], $port));
        }
    }
    session_name('shop_session');
    session_set_cookie_params(['httponly' => true, 'samesite' => 'Lax', 'secure' => ($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') === 'https']);
    session_start();
}

/**
 * Records the order and its message to the order topic in one transaction (the relay,
 * shop-order-relay, publishes the message); prices come from the catalogue, not the client.
 */
function shop_place_order(PDO $db, array $cart): int
{
    $db->beginTransaction();
    try {
        $price = $db->prepare('SELECT price_cents FROM products WHERE sku = ?');
        $items = [];
        $total = 0;
        foreach ($cart as $sku => $quantity) {
            $price->execute([(string) $sku]);
            $cents = $price->fetchColumn();
            if ($cents === false || (int) $quantity < 1) {
                continue;
            }
            $items[] = ['sku' => (string) $sku, 'quantity' => (int) $quantity, 'price_cents' => (int) $cents];
            $total += (int) $cents * (int) $quantity;
        }
        $json = json_encode($items, JSON_THROW_ON_ERROR);
        $db->prepare('INSERT INTO orders (total_cents, items) VALUES (?, ?)')->execute([$total, $json]);
        $id = (int) $db->lastInsertId();
        $message = json_encode(['type' => 'order-placed', 'order_id' => $id, 'total_cents' => $total,
                                'items' => $items], JSON_THROW_ON_ERROR);
        $db->prepare('INSERT INTO order_outbox (order_id, payload) VALUES (?, ?)')->execute([$id, $message]);
        $db->commit();
        return $id;
    } catch (Throwable $error) {
        $db->rollBack();
        throw $error;
    }
}

function h(string $text): string
{
    return htmlspecialchars($text, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}
