<?php
// Demo storefront: the catalogue from MySQL and a cart kept in the session.
declare(strict_types=1);
require __DIR__ . '/../lib/bootstrap.php';

shop_session_start();
$_SESSION['cart'] ??= [];

try {
    $db = shop_db();
    if ($_SERVER['REQUEST_METHOD'] === 'POST' && isset($_POST['sku'])) {
        $found = $db->prepare('SELECT sku FROM products WHERE sku = ?');
        $found->execute([$_POST['sku']]);
        if ($found->fetchColumn() !== false) {
            $_SESSION['cart'][$_POST['sku']] = ($_SESSION['cart'][$_POST['sku']] ?? 0) + 1;
        }
        header('Location: /', true, 303);
        exit;
    }
    if ($_SERVER['REQUEST_METHOD'] === 'POST' && isset($_POST['checkout']) && $_SESSION['cart']) {
        $_SESSION['last_order'] = shop_place_order($db, $_SESSION['cart']);
        $_SESSION['cart'] = [];
        header('Location: /', true, 303);
        exit;
    }
    $products = $db->query('SELECT sku, name, price_cents FROM products ORDER BY name')->fetchAll();
    shop_spend_page_cpu();
} catch (Throwable $error) {
    error_log('shop: catalogue unavailable: ' . $error->getMessage());
    http_response_code(503);
    echo "The shop is unavailable, please come back in a moment.\n";
    exit;
}
$static = rtrim(shop_config()['app']['static_base_url'] ?? '/static', '/');
?>
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Demo shop</title><link rel="stylesheet" href="<?= h($static) ?>/shop.css"></head>
<body>
<h1>Demo shop</h1>
<table>
<?php foreach ($products as $product): ?>
  <tr class="product">
    <td><?= h($product['name']) ?></td>
    <td><?= number_format($product['price_cents'] / 100, 2) ?></td>
    <td><form method="post"><input type="hidden" name="sku" value="<?= h($product['sku']) ?>"><button>Add to cart</button></form></td>
  </tr>
<?php endforeach ?>
</table>
<h2>Cart</h2>
<ul id="cart">
<?php foreach ($_SESSION['cart'] as $sku => $quantity): ?>
  <li><?= h((string) $sku) ?> x <?= (int) $quantity ?></li>
<?php endforeach ?>
</ul>
<?php if ($_SESSION['cart']): ?>
<form method="post"><button name="checkout" value="1" id="checkout">Place order</button></form>
<?php endif ?>
<?php if (!empty($_SESSION['last_order'])): ?>
<p id="order-placed">Order #<?= (int) $_SESSION['last_order'] ?> placed, thank you.</p>
<?php endif ?>
<p class="served-by">Release <?= h(trim((string) @file_get_contents(__DIR__ . '/../VERSION'))) ?></p>
</body>
</html>
