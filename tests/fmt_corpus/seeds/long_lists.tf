locals {
  ports = [22, 80, 443, 8080, 8443, 9000, 9090, 3000, 3306, 5432, 6379, 27017, 11211, 2049, 111, 53, 25, 587, 993, 995]
  names = ["alpha","beta","gamma","delta","epsilon","zeta","eta","theta","iota","kappa","lambda","mu","nu","xi","omicron","pi"]
  cidrs = [
    "10.0.0.0/16","10.1.0.0/16",
    "10.2.0.0/16",   "10.3.0.0/16",
  ]
}
