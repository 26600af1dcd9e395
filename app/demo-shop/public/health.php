<?php
// Health check for the load balancer: 200 only when the database answers.
declare(strict_types=1);
require __DIR__ . '/../lib/bootstrap.php';

header('Content-Type: application/json');
header('Cache-Control: no-store');
try {
    shop_db()->query('SELECT 1')->fetchColumn();
    echo json_encode(['status' => 'ok', 'database' => 'up']), "\n";
} catch (Throwable $error) {
    error_log('shop: health check failed: ' . $error->getMessage());
    http_response_code(503);
    echo json_encode(['status' => 'unavailable', 'database' => 'down']), "\n";
}
