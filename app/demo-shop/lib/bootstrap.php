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
    return new PDO($dsn, $db['user'], $db['password'], [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
        PDO::ATTR_TIMEOUT => 2,
    ]);
}

function shop_session_start(): void
{
    $cache = shop_config()['cache'] ?? [];
    if (!empty($cache['host'])) {
        // Sessions in Redis: any instance of the fleet serves any visitor.
        ini_set('session.save_handler', 'redis');
        ini_set('session.save_path', sprintf('tcp://%s:%d', $cache['host'], (int) ($cache['port'] ?? 6379)));
    }
    session_name('shop_session');
    session_set_cookie_params(['httponly' => true, 'samesite' => 'Lax', 'secure' => ($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') === 'https']);
    session_start();
}

function h(string $text): string
{
    return htmlspecialchars($text, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}
