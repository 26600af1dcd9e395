<?php
// Demo storefront: configuration, database and session set-up shared by every page.
// The configuration is rendered at boot by shop-configure (/etc/shop/app.json); the
// image itself carries none of it.
declare(strict_types=1);

const SHOP_CONFIG = '/etc/shop/app.json';
// shop-credentials.socket: shop-configure --refresh-db behind it (roles/webstack).
const SHOP_CREDENTIALS_SOCKET = '/run/shop/credentials.sock';
const SHOP_ACCESS_DENIED = 1045;  // MySQL's ER_ACCESS_DENIED_ERROR

function shop_config(bool $reload = false): array
{
    static $config = null;
    if ($config === null || $reload) {
        clearstatcache(true, SHOP_CONFIG);
        $raw = is_readable(SHOP_CONFIG) ? file_get_contents(SHOP_CONFIG) : false;
        $parsed = $raw === false ? null : json_decode($raw, true);
        $config = is_array($parsed) ? $parsed : [];
    }
    return $config;
}

function shop_db_connect(array $db): PDO
{
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
 * Asks shop-configure for the database credentials afresh (it reads the secret and keeps, of a
 * rotation's current and pending passwords, the one the server takes) and waits until app.json
 * holds them: the connection closes when it is done. False when it cannot be asked.
 */
function shop_refresh_credentials(): bool
{
    $socket = @stream_socket_client('unix://' . SHOP_CREDENTIALS_SOCKET, $errno, $error, 5);
    if ($socket === false) {
        error_log("shop: cannot ask for fresh database credentials ($error)");
        return false;
    }
    stream_set_timeout($socket, 20);
    while (!feof($socket) && fread($socket, 1024) !== false) {
        if (stream_get_meta_data($socket)['timed_out']) {
            break;
        }
    }
    fclose($socket);
    return true;
}

/**
 * The database. A refused password (the secret was rotated since app.json was written) has the
 * credentials read again and the connection tried once more with them: a rotation costs the
 * request that meets it a refresh, not an error.
 */
function shop_db(): PDO
{
    $db = shop_config()['database'] ?? null;
    if (!$db) {
        throw new RuntimeException('no database settings in ' . SHOP_CONFIG);
    }
    try {
        return shop_db_connect($db);
    } catch (PDOException $error) {
        $denied = (int) $error->getCode() === SHOP_ACCESS_DENIED || str_contains($error->getMessage(), '[' . SHOP_ACCESS_DENIED . ']');
        if (!$denied || !shop_refresh_credentials()) {
            throw $error;
        }
        return shop_db_connect(shop_config(true)['database'] ?? $db);
    }
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

/**
 * PHP sessions in Redis (ElastiCache), through phpredis's client rather than its session save
 * path: TLS with the node's certificate verified (against the stack's CA bundle when the
 * settings name one), the AUTH token sent with AUTH and never written into a URL that PHP's
 * warnings would log, and one retry on a fresh connection when the node answers an error: the
 * primary endpoint's name moves to the promoted replica during a failover, and a connection to
 * the former primary gets READONLY or a reset.
 */
final class ShopRedisSessionHandler implements SessionHandlerInterface, SessionUpdateTimestampHandlerInterface
{
    private const PREFIX = 'PHPREDIS_SESSION:';
    private ?Redis $redis = null;

    public function __construct(private readonly array $cache)
    {
    }

    private function connect(): Redis
    {
        if ($this->redis === null) {
            $redis = new Redis();
            $tls = !empty($this->cache['tls']);
            $stream = ['verify_peer' => true, 'verify_peer_name' => true];
            if (!empty($this->cache['ca'])) {
                $stream['cafile'] = $this->cache['ca'];
            }
            $redis->connect(($tls ? 'tls://' : '') . $this->cache['host'], (int) ($this->cache['port'] ?? 6379),
                2.0, null, 0, 2.0, $tls ? ['stream' => $stream] : []);
            if (!empty($this->cache['auth']) && !$redis->auth((string) $this->cache['auth'])) {
                throw new RedisException('the session store refused the AUTH token');
            }
            $this->redis = $redis;
        }
        return $this->redis;
    }

    /** The command's answer; on an error, once more on a new connection, then false (logged). */
    private function call(string $what, callable $command): mixed
    {
        for ($attempt = 1; ; $attempt++) {
            try {
                $redis = $this->connect();
                $redis->clearLastError();
                $answer = $command($redis);
                if ($answer !== false || $redis->getLastError() === null) {
                    return $answer;
                }
                $error = $redis->getLastError();
            } catch (RedisException $exception) {
                $error = $exception->getMessage();
            }
            $this->redis = null;
            if ($attempt === 2) {
                error_log(sprintf('shop: session %s failed on %s: %s', $what, $this->cache['host'], $error));
                return false;
            }
        }
    }

    private function ttl(): int
    {
        return max(60, (int) ini_get('session.gc_maxlifetime'));
    }

    public function open(string $path, string $name): bool
    {
        return true;
    }

    public function close(): bool
    {
        $this->redis?->close();
        $this->redis = null;
        return true;
    }

    public function read(string $id): string|false
    {
        $data = $this->call('read', fn (Redis $r) => $r->get(self::PREFIX . $id));
        return $data === false ? ($this->redis !== null ? '' : false) : (string) $data;
    }

    public function write(string $id, string $data): bool
    {
        return (bool) $this->call('write', fn (Redis $r) => $r->setex(self::PREFIX . $id, $this->ttl(), $data));
    }

    public function destroy(string $id): bool
    {
        return $this->call('destroy', fn (Redis $r) => $r->del(self::PREFIX . $id)) !== false;
    }

    public function gc(int $max_lifetime): int|false
    {
        return 0; // Redis expires the sessions itself (their TTL)
    }

    public function validateId(string $id): bool
    {
        return (bool) $this->call('check', fn (Redis $r) => $r->exists(self::PREFIX . $id));
    }

    public function updateTimestamp(string $id, string $data): bool
    {
        return (bool) $this->call('touch', fn (Redis $r) => $r->expire(self::PREFIX . $id, $this->ttl()));
    }
}

function shop_session_start(): void
{
    $cache = shop_config()['cache'] ?? [];
    if (!empty($cache['host'])) {
        // Sessions in Redis: any instance of the fleet serves any visitor.
        session_set_save_handler(new ShopRedisSessionHandler($cache), true);
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
