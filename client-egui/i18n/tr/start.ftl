# İlk açılış (screens/first_run.rs)
start-welcome = kovan'a hoş geldiniz
start-keys-stay-here = Anahtarlarınız bu cihazda oluşturulur ve cihazdan asla çıkmaz.
start-device-name = Cihaz adı
start-passphrase = Parola
start-repeat-passphrase = Parolayı tekrar girin
start-passphrases-differ = Parolalar eşleşmiyor.
start-create-identity = Kimlik oluştur
start-strength-too-short = Çok kısa: en az 8 karakter
start-strength-weak = Zayıf: daha uzun olması daha iyi
start-strength-strong = Güçlü
start-strength-fair = Orta

# Kilit ekranı (screens/unlock.rs)
start-locked = kovan kilitli
start-unlock = Kilidi aç
start-unlock-to-connect = { $url } adresine bağlanmak için kilidi açın, ardından orada kaydolun ya da giriş yapın.
start-unlock-without-relay = Röle olmadan devam etmek için kilidi açın.

# Bekleme (screens/starting.rs)
start-opening-keys = Anahtarlarınız açılıyor…
start-starting = Başlatılıyor…
