<?php
// Creates the demo schema and seeds the catalogue when it is empty. Idempotent:
// shop-configure runs it at every boot, on every instance.
declare(strict_types=1);
require __DIR__ . '/../lib/bootstrap.php';

$db = shop_db();
$db->exec(<<<'SQL'
    CREATE TABLE IF NOT EXISTS products (
        sku VARCHAR(32) NOT NULL PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        price_cents INT UNSIGNED NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
    SQL);
// Orders, and their messages to the order topic written in the same transaction (a
// transactional outbox): shop-order-relay publishes the unsent ones (sent_at NULL).
$db->exec(<<<'SQL'
    CREATE TABLE IF NOT EXISTS orders (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        placed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        total_cents INT UNSIGNED NOT NULL,
        items JSON NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
    SQL);
$db->exec(<<<'SQL'
    CREATE TABLE IF NOT EXISTS order_outbox (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        order_id BIGINT UNSIGNED NOT NULL,
        payload JSON NOT NULL,
        created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        sent_at DATETIME(6) NULL,
        KEY unsent (sent_at, id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
    SQL);
// INSERT IGNORE on the primary key: two instances booting at once seed it once.
$seed = $db->prepare('INSERT IGNORE INTO products (sku, name, price_cents) VALUES (?, ?, ?)');
if ((int) $db->query('SELECT COUNT(*) FROM products')->fetchColumn() === 0) {
    foreach ([['TEE-001', 'T-shirt', 1900], ['MUG-001', 'Mug', 1200], ['CAP-001', 'Cap', 1500]] as $row) {
        $seed->execute($row);
    }
}
echo "schema ready\n";
