// TCP redirections of Clever Cloud applications: a public port on a namespace of reverse proxies, forwarded to the application's port 4040.
package clevercloudtcp
